// The few lines of glue the issue allows: go.etcd.io/etcd/server/v3 has the
// server's entry point (etcdmain.Main) but no main package; etcd's own main
// lives in its root module, whose go.mod replaces its submodules with local
// directories and so cannot be built from the module proxy.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
