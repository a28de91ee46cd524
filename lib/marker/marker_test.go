package marker

import "testing"

func TestClaimRoundTrip(t *testing.T) {
	c := ClaimLine{ID: "C3", Pass: true, Title: "sufficiency", Checks: []string{"loss = 1e-12 <= 1e-08", "rank = 4 >= 4"}}
	got, ok := ParseClaim("  " + c.String() + "\n")
	if !ok || got.ID != "C3" || !got.Pass || got.Title != c.Title || len(got.Checks) != 2 || got.Checks[1] != c.Checks[1] {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	c.Pass = false
	if got, _ := ParseClaim(c.String()); got.Pass {
		t.Fatal("FAIL read as PASS")
	}
	if _, ok := ParseClaim("REPDYN-CLAIMS C3 PASS"); ok {
		t.Fatal("not a claim line accepted")
	}
}

func TestFindVerdict(t *testing.T) {
	out := "table\n" + VerdictPass + ": a (2/2 checks)\nmore\n" + VerdictFail + ": b (1/2 checks): x\n"
	line, pass, found := FindVerdict(out)
	if !found || pass || line != VerdictFail+": b (1/2 checks): x" {
		t.Fatalf("%q %v %v", line, pass, found)
	}
	if _, _, found := FindVerdict("nothing here"); found {
		t.Fatal("found a verdict in none")
	}
}
