package data

import (
	"os"
	"syscall"
)

// fileID identifies a file beyond its size and modification time: a file
// replaced (new inode) or rewritten and re-dated (new change time, which
// cannot be set back) no longer matches a stamp made for the old one.
type fileID struct {
	Inode uint64 `json:"inode"`
	Dev   uint64 `json:"dev"`
	CTime int64  `json:"ctime_ns"`
}

func idOf(st os.FileInfo) fileID {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}
	}
	return fileID{Inode: s.Ino, Dev: uint64(s.Dev), CTime: s.Ctim.Nano()}
}
