// Machine-mode CSRs and the CSR instructions by encoding (RISC-V
// privileged spec: CSRRW, CSRRS, CSRRC and their immediate forms; Go's
// assembler has no mnemonics for them). RD, RS: register numbers (x5 is
// t0); UIMM: a 5-bit immediate.

#define CSRRW(RD, CSR, RS)	WORD $(0x1073 | (RD)<<7 | (RS)<<15 | (CSR)<<20)
#define CSRRS(RD, CSR, RS)	WORD $(0x2073 | (RD)<<7 | (RS)<<15 | (CSR)<<20)
#define CSRRC(RD, CSR, RS)	WORD $(0x3073 | (RD)<<7 | (RS)<<15 | (CSR)<<20)
#define CSRRCI(RD, CSR, UIMM)	WORD $(0x7073 | (RD)<<7 | (UIMM)<<15 | (CSR)<<20)
#define MRET			WORD $0x30200073
#define WFI			WORD $0x10500073
#define FENCE_I			WORD $0x0000100f

#define FCSR		0x003
#define MSTATUS		0x300
#define MIE		0x304
#define MTVEC		0x305
#define MSCRATCH	0x340
#define MEPC		0x341
#define MCAUSE		0x342
#define MTVAL		0x343
#define MHARTID		0xf14

#define MSTATUS_MIE	(1<<3)
#define MIE_MTIE	(1<<7)
