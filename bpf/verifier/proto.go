package verifier

// Helper prototypes, as the verifier checks them: Linux's struct
// bpf_func_proto (include/linux/bpf.h).

// ArgType is what a helper argument must be (enum bpf_arg_type), possibly
// with flags (ArgMaybeNull, ...).
type ArgType uint16

// The argument types.
const (
	ArgDontCare             ArgType = iota // ARG_DONTCARE: unused
	ArgAnything                            // ARG_ANYTHING: any initialised value
	ArgConstMapPtr                         // ARG_CONST_MAP_PTR
	ArgPtrToMapKey                         // ARG_PTR_TO_MAP_KEY: key_size readable bytes
	ArgPtrToMapValue                       // ARG_PTR_TO_MAP_VALUE: value_size bytes
	ArgPtrToMem                            // ARG_PTR_TO_MEM: sized by the next argument, or Size
	ArgConstSize                           // ARG_CONST_SIZE: size of the previous argument, > 0
	ArgConstSizeOrZero                     // ARG_CONST_SIZE_OR_ZERO
	ArgConstAllocSizeOrZero                // ARG_CONST_ALLOC_SIZE_OR_ZERO: size of returned memory
	ArgPtrToCtx                            // ARG_PTR_TO_CTX
	ArgPtrToFunc                           // ARG_PTR_TO_FUNC: a callback (lddw func)
	ArgPtrToStack                          // ARG_PTR_TO_STACK: callback context
	ArgPtrToRingbufMem                     // ARG_PTR_TO_RINGBUF_MEM: a reserved record
	ArgPtrToConstStr                       // ARG_PTR_TO_CONST_STR: NUL-terminated in a read-only map
	ArgPtrToLong                           // ARG_PTR_TO_LONG: 8 bytes written
	ArgPtrToInt                            // ARG_PTR_TO_INT: 4 bytes written

	argBaseMask ArgType = 0xff
)

// Flags of an argument type (enum bpf_type_flag).
const (
	ArgMaybeNull ArgType = 1 << 8  // PTR_MAYBE_NULL: NULL (0) also accepted
	ArgReadOnly  ArgType = 1 << 9  // MEM_RDONLY: the helper only reads
	ArgUninit    ArgType = 1 << 10 // MEM_UNINIT: the helper only writes
	ArgRelease   ArgType = 1 << 11 // OBJ_RELEASE: the helper releases the reference
	ArgFixedSize ArgType = 1 << 12 // MEM_FIXED_SIZE: HelperProto.ArgSize bytes
)

func (t ArgType) base() ArgType { return t & argBaseMask }

// RetType is what a helper returns (enum bpf_return_type).
type RetType uint8

// The return types.
const (
	RetInteger                RetType = iota // RET_INTEGER
	RetVoid                                  // RET_VOID: r0 unreadable after the call
	RetPtrToMapValueOrNull                   // RET_PTR_TO_MAP_VALUE_OR_NULL
	RetPtrToRingbufMemOrNull                 // RET_PTR_TO_RINGBUF_MEM_OR_NULL: an acquired record
	RetPtrToMemOrNull                        // RET_PTR_TO_MEM_OR_NULL of RetSize bytes
	RetPtrToMapValueOrNullAny                // per-CPU lookups: like RetPtrToMapValueOrNull
)

// Callback describes the callback argument of a helper: which argument is
// the function, and how the helper calls it.
type Callback int8

// The callback-calling helpers Hachi verifies.
const (
	CallbackNone       Callback = iota
	CallbackLoop                // bpf_loop: cb(u32 index, void *ctx), up to nr_loops times
	CallbackForEachMap          // bpf_for_each_map_elem: cb(map, key, value, ctx), per element
)

// HelperProto is a helper's prototype (struct bpf_func_proto).
type HelperProto struct {
	// Name is the helper's name without "bpf_", for messages.
	Name string
	// GPLOnly: only GPL-compatible programs may call it (gpl_only).
	GPLOnly bool
	// Ret is what it leaves in r0.
	Ret RetType
	// RetSize is the size of RetPtrToMemOrNull memory.
	RetSize uint32
	// Args are the types of r1-r5 (ArgDontCare past the last).
	Args [5]ArgType
	// ArgSize is the size of ArgFixedSize arguments, by argument.
	ArgSize [5]uint32
	// Callback is set for helpers that call a program function.
	Callback Callback
	// PacketAccess: memory arguments may point into the packet
	// (bpf_func_proto.pkt_access).
	PacketAccess bool
	// ChangesPacket: the helper may move or resize the packet, so every
	// packet pointer is invalid afterwards (bpf_helper_changes_pkt_data).
	ChangesPacket bool
}
