package data

import (
	"fmt"
	"sort"
)

// File is one published file of a dataset, with what is known about it.
type File struct {
	Dataset string   // dataset name, e.g. "mnist"
	Name    string   // file name, in the dataset's cache subdirectory
	URL     string   // official download location
	Mirrors []string // further locations tried in order when URL fails
	Splits  []Split
	Size    int64  // size in bytes as published; 0 if unknown
	SHA256  string // hex SHA-256 of the file as published; "" if unknown
	MD5     string // hex MD5 of the file as published; "" if unknown
	// ContentSHA256 is the SHA-256 of the gzip-decompressed content, for
	// files that a system package ships re-compressed (Fashion-MNIST in
	// Debian). A file whose published checksums do not match but whose
	// decompressed content does is accepted.
	ContentSHA256 string
}

// spec describes one dataset.
type spec struct {
	name        string
	description string
	files       []File
	systemDirs  []string // directories searched (read-only) before the cache
	splits      []Split
	c, h, w     int
	classes     []string
	load        func(s *spec, split Split, paths map[string]string) (*Dataset, error)
}

func (s *spec) filesFor(split Split) []File {
	var out []File
	for _, f := range s.files {
		for _, sp := range f.Splits {
			if sp == split {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// Checksums below: SHA-256 and sizes as recorded by TensorFlow Datasets for
// these URLs (url_checksums/*.txt); MD5s as recorded by torchvision
// (torchvision/datasets/mnist.py, semeion.py). Semeion's SHA-256 and size
// are those of the file with torchvision's MD5 (UCI publishes neither;
// recomputed from a copy whose MD5 matches). Fashion-MNIST content hashes
// were computed from Debian's dataset-fashion-mnist package, whose .gz files
// are the upstream ones with the gzip file-name field stripped (each is
// exactly 24 bytes, the length of that name, shorter than upstream).

var digitNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

func idxFiles(dataset, base string, sums [4][3]string, sizes [4]int64, content [4]string, mirrors ...string) []File {
	names := [4]string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
	splits := [4]Split{Train, Train, Test, Test}
	out := make([]File, 4)
	for i := range names {
		out[i] = File{Dataset: dataset, Name: names[i], URL: base + names[i], Splits: []Split{splits[i]},
			Size: sizes[i], SHA256: sums[i][0], MD5: sums[i][1], ContentSHA256: content[i]}
		for _, m := range mirrors {
			out[i].Mirrors = append(out[i].Mirrors, m+names[i])
		}
	}
	return out
}

var registry = map[string]*spec{}

func register(s *spec) { registry[s.name] = s }

func init() {
	register(&spec{
		name:        "mnist",
		description: "handwritten digits, 1x28x28, 10 classes, 60000 train / 10000 test",
		files: idxFiles("mnist", "https://ossci-datasets.s3.amazonaws.com/mnist/", [4][3]string{
			{"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
			{"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "d53e105ee54ea40749a09fcbcd1e9432"},
			{"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "9fb629c4189551a2d022fa330f9573f3"},
			{"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ec29112dd5afa0611ce80d1b7f02629c"},
		}, [4]int64{9912422, 28881, 1648877, 4542}, [4]string{}, "https://storage.googleapis.com/cvdf-datasets/mnist/"),
		splits: []Split{Train, Test}, c: 1, h: 28, w: 28, classes: digitNames, load: loadIDXDataset,
	})
	register(&spec{
		name:        "fashion-mnist",
		description: "Zalando clothing images, 1x28x28, 10 classes, 60000 train / 10000 test",
		files: idxFiles("fashion-mnist", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", [4][3]string{
			{"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"},
			{"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", "25c81989df183df01b3e8a0aad5dffbe"},
			{"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", "bef4ecab320f06d8554ea6380940ec79"},
			{"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", "bb300cfdad3c16e7a12a480ee83cd310"},
		}, [4]int64{26421880, 29515, 4422102, 5148}, [4]string{
			"c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
			"bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
			"5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
			"0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
		}),
		systemDirs: []string{"/usr/share/datasets/fashion-mnist"},
		splits:     []Split{Train, Test}, c: 1, h: 28, w: 28,
		classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
		load:    loadIDXDataset,
	})
	register(&spec{
		name:        "kmnist",
		description: "Kuzushiji-MNIST (cursive Japanese), 1x28x28, 10 classes, 60000 train / 10000 test",
		files: idxFiles("kmnist", "http://codh.rois.ac.jp/kmnist/dataset/kmnist/", [4][3]string{
			{"51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4", "bdb82020997e1d708af4cf47b453dcf7"},
			{"e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17", "e144d726b3acfaa3e44228e80efcd344"},
			{"edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5", "5c965bf0a639b31b8f53240b1b52f4d7"},
			{"20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c", "7320c461ea6c1c855c0b718fb2a4b134"},
		}, [4]int64{18165135, 29497, 3041136, 5120}, [4]string{}),
		splits: []Split{Train, Test}, c: 1, h: 28, w: 28,
		classes: []string{"o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"},
		load:    loadIDXDataset,
	})
	register(&spec{
		name:        "cifar10",
		description: "CIFAR-10 colour photos, 3x32x32, 10 classes, 50000 train / 10000 test",
		files: []File{{Dataset: "cifar10", Name: "cifar-10-binary.tar.gz", URL: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
			Splits: []Split{Train, Test}, Size: 170052171,
			SHA256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"}},
		splits: []Split{Train, Test}, c: 3, h: 32, w: 32,
		classes: []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"},
		load:    loadCIFARDataset,
	})
	register(&spec{
		name:        "cifar100",
		description: "CIFAR-100 colour photos, 3x32x32, 100 fine classes, 50000 train / 10000 test",
		files: []File{{Dataset: "cifar100", Name: "cifar-100-binary.tar.gz", URL: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
			Splits: []Split{Train, Test}, Size: 168513733,
			SHA256: "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec"}},
		splits: []Split{Train, Test}, c: 3, h: 32, w: 32,
		load: loadCIFARDataset, // class names come from fine_label_names.txt in the archive
	})
	register(&spec{
		name:        "svhn",
		description: "Street View House Numbers (cropped digits), 3x32x32, 10 classes, 73257 train / 26032 test (/ 531131 extra)",
		files: []File{
			{Dataset: "svhn", Name: "train_32x32.mat", URL: "http://ufldl.stanford.edu/housenumbers/train_32x32.mat", Splits: []Split{Train},
				Size: 182040794, SHA256: "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8", MD5: "e26dedcc434d2e4c54c9b2d4a06d8373"},
			{Dataset: "svhn", Name: "test_32x32.mat", URL: "http://ufldl.stanford.edu/housenumbers/test_32x32.mat", Splits: []Split{Test},
				Size: 64275384, SHA256: "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b", MD5: "eb5a983be6a315427106f1b164d9cef3"},
			{Dataset: "svhn", Name: "extra_32x32.mat", URL: "http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", Splits: []Split{Extra},
				Size: 1329278602, SHA256: "a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3", MD5: "a93ce644f1a588dc4d68dda5feec44a7"},
		},
		splits: []Split{Train, Test, Extra}, c: 3, h: 32, w: 32, classes: digitNames, load: loadSVHNDataset,
	})
	register(&spec{
		name:        "semeion",
		description: "Semeion handwritten digits, 1x16x16 binary, 10 classes, 1593 images (one split: all)",
		files: []File{{Dataset: "semeion", Name: "semeion.data",
			URL:    "https://archive.ics.uci.edu/ml/machine-learning-databases/semeion/semeion.data",
			Splits: []Split{All}, Size: 2889702, MD5: "cb545d371d2ce14ec121470795a77432",
			SHA256: "f43228ae3da5ea6a3c95069d53450b86166770e3b719dcc333182128fe08d4b1"}},
		splits: []Split{All}, c: 1, h: 16, w: 16, classes: digitNames, load: loadSemeionDataset,
	})
}

// Extra is SVHN's additional training split (531131 images, a 1.3 GB file);
// it is fetched only when loaded explicitly.
const Extra Split = "extra"

// Names lists the known datasets, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Describe returns a one-line description of a dataset.
func Describe(name string) (string, error) {
	s, err := lookup(name)
	if err != nil {
		return "", err
	}
	return s.description, nil
}

// Splits returns the splits a dataset has.
func Splits(name string) ([]Split, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return append([]Split(nil), s.splits...), nil
}

// Files returns the files of a dataset with their URLs and checksums.
func Files(name string) ([]File, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return append([]File(nil), s.files...), nil
}

func lookup(name string) (*spec, error) {
	s, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("data: unknown dataset %q (known: %v)", name, Names())
	}
	return s, nil
}
