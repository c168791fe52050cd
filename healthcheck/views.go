package healthcheck

import "sextant/naming"

// viewSource is a source that hands out views without building their
// instance lists (naming.Catalog does). Both checkers read a source
// through it when it has it, and read instances only through All, Len
// and naming.DiffViews, so a sweep or a followed change does not build
// the list of every service that changed since the last one.
type viewSource interface {
	View(key naming.ServiceKey) (*naming.Service, bool)
	Views(namespace, group string) []*naming.Service
}

// views holds the two ways of reading src's services: as views when src
// hands them out, else through its lists.
type views struct {
	one func(naming.ServiceKey) (*naming.Service, bool)
	all func(namespace, group string) []*naming.Service
}

func viewsOf(src naming.Reader) views {
	if v, ok := src.(viewSource); ok {
		return views{one: v.View, all: v.Views}
	}
	return views{one: src.Service, all: src.Services}
}
