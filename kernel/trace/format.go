package trace

import (
	"strconv"
	"strings"

	"hachi/syscall/linux"
)

var (
	errExist = linux.EEXIST
	errNoEnt = linux.ENOENT
)

// CommonHeaderSize is the size of struct trace_entry, the header of every
// record: common_type (u16), common_flags (u8), common_preempt_count (u8),
// common_pid (int).
const CommonHeaderSize = 8

// Field is one field of a record, as a format file describes it.
type Field struct {
	// Type is the C type as tracefs prints it: "pid_t", "unsigned long",
	// "char", "__data_loc char[]".
	Type string
	// Name is the field name, without array brackets.
	Name string
	// Len is the element count of an array field (char comm[16]), 0 for
	// a scalar.
	Len int
	// Offset is the field's byte offset in the record.
	Offset int
	// Size is the field's size in bytes (all elements of an array).
	Size int
	// Signed tells whether the (element) type is signed.
	Signed bool
}

// align is the field's C alignment: its element size.
func (f Field) align() int {
	if f.Len > 0 {
		return f.Size / f.Len
	}
	return f.Size
}

// DataLoc reports whether the field is a __data_loc dynamic field: a u32
// holding the data's offset in the record (low 16 bits) and length (high
// 16 bits), as Linux's __string / __assign_str encode it.
func (f Field) DataLoc() bool { return strings.HasPrefix(f.Type, "__data_loc ") }

// The common fields, as every format file starts (trace_define_common_fields).
var commonFields = []Field{
	{Type: "unsigned short", Name: "common_type", Offset: 0, Size: 2},
	{Type: "unsigned char", Name: "common_flags", Offset: 2, Size: 1},
	{Type: "unsigned char", Name: "common_preempt_count", Offset: 3, Size: 1},
	{Type: "int", Name: "common_pid", Offset: 4, Size: 4, Signed: true},
}

// Helpers to declare fields; offsets are laid out by define.

func scalar(typ, name string, size int, signed bool) Field {
	return Field{Type: typ, Name: name, Size: size, Signed: signed}
}

func array(typ, name string, elemSize, n int, signed bool) Field {
	return Field{Type: typ, Name: name, Len: n, Size: elemSize * n, Signed: signed}
}

func dynamicString(name string) Field {
	return Field{Type: "__data_loc char[]", Name: name, Size: 4}
}

// writeField appends one field line as Linux's f_show prints it.
func writeField(b *strings.Builder, f Field) {
	b.WriteString("\tfield:")
	b.WriteString(f.Type)
	b.WriteByte(' ')
	b.WriteString(f.Name)
	if f.Len > 0 {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(f.Len))
		b.WriteByte(']')
	}
	b.WriteString(";\toffset:")
	b.WriteString(strconv.Itoa(f.Offset))
	b.WriteString(";\tsize:")
	b.WriteString(strconv.Itoa(f.Size))
	b.WriteString(";\tsigned:")
	if f.Signed {
		b.WriteByte('1')
	} else {
		b.WriteByte('0')
	}
	b.WriteString(";\n")
}

// Format is the content of tracefs events/<system>/<name>/format, as
// kernel/trace/trace_events.c (f_show) writes it: name, ID, the common
// fields, a blank line, the event's fields, a blank line and the print
// format.
func (tp *Tracepoint) Format() string {
	var b strings.Builder
	b.WriteString("name: " + tp.name + "\n")
	b.WriteString("ID: " + strconv.Itoa(int(tp.id)) + "\n")
	b.WriteString("format:\n")
	for _, f := range commonFields {
		writeField(&b, f)
	}
	b.WriteByte('\n')
	for _, f := range tp.fields {
		writeField(&b, f)
	}
	b.WriteString("\nprint fmt: " + tp.printFmt + "\n")
	return b.String()
}

// ReadTracefs is the content of a file of the tracefs event tree, by its
// path below the tracefs root (/sys/kernel/tracing): events/<sys>/<name>/format
// and events/<sys>/<name>/id for every tracepoint, and available_events
// (one `system:name` a line). ENOENT for any other path.
func ReadTracefs(path string) ([]byte, error) {
	if path == "available_events" {
		var b strings.Builder
		for _, tp := range all {
			b.WriteString(tp.system + ":" + tp.name + "\n")
		}
		return []byte(b.String()), nil
	}
	parts := strings.Split(path, "/")
	if len(parts) != 4 || parts[0] != "events" {
		return nil, linux.ENOENT
	}
	tp, ok := byName[parts[1]+":"+parts[2]]
	if !ok {
		return nil, linux.ENOENT
	}
	switch parts[3] {
	case "format":
		return []byte(tp.Format()), nil
	case "id":
		return []byte(strconv.Itoa(int(tp.id)) + "\n"), nil
	}
	return nil, linux.ENOENT
}
