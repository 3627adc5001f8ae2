// Not a module to build: the files below src/ are added to Go's source tree
// by build.sh. This go.mod keeps them out of the hachi module (go build ./...).
module hachi-toolchain-files
