/// One seccomp filter: a classic BPF program as the kernel holds it
/// (`struct sock_filter` instructions), and an interpreter for it. mvm runs
/// the program itself, for each system call number, to count what a process
/// may call; the kernel offers no other way to ask a filter.
///
/// The interpreter runs exactly the instructions the kernel's seccomp
/// checker (`seccomp_check_filter`) accepts, with the kernel's meaning, and
/// refuses any other instruction with an error rather than guessing: a
/// wrong count would be worse than none.
public struct SeccompFilter: Sendable, Equatable {
    /// One `struct sock_filter`.
    public struct Instruction: Sendable, Equatable {
        public var code: UInt16
        public var jt: UInt8
        public var jf: UInt8
        public var k: UInt32

        public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
            self.code = code
            self.jt = jt
            self.jf = jf
            self.k = k
        }
    }

    public var instructions: [Instruction]

    public init(_ instructions: [Instruction]) {
        self.instructions = instructions
    }

    /// Classic BPF's scratch memory: `BPF_MEMWORDS` 32-bit words.
    static let scratchWords = 16
    /// `sizeof(struct seccomp_data)`: what `BPF_LD|BPF_W|BPF_LEN` loads.
    static let dataSize: UInt32 = 64

    /// Runs the program on `data` and returns its 32-bit verdict
    /// (`SECCOMP_RET_*` action and data).
    public func evaluate(_ data: SeccompData) throws(SeccompFilterError) -> UInt32 {
        var a: UInt32 = 0
        var x: UInt32 = 0
        // The kernel zeroes scratch memory only where its checker cannot
        // prove a store comes first; a read before any store is refused below.
        var memory = [UInt32?](repeating: nil, count: Self.scratchWords)
        var pc = 0
        while pc < instructions.count {
            let instruction = instructions[pc]
            let code = instruction.code
            let k = instruction.k
            pc += 1
            switch code {
            // Loads into A.
            case BPF.ld | BPF.w | BPF.abs:
                guard let word = data.word(at: k) else { throw .loadOutOfRange(index: pc - 1, offset: k) }
                a = word
            case BPF.ld | BPF.w | BPF.len:
                a = Self.dataSize
            case BPF.ldx | BPF.w | BPF.len:
                x = Self.dataSize
            case BPF.ld | BPF.imm:
                a = k
            case BPF.ldx | BPF.imm:
                x = k
            case BPF.ld | BPF.mem, BPF.ldx | BPF.mem:
                guard Int(k) < Self.scratchWords else { throw .scratchOutOfRange(index: pc - 1, slot: k) }
                guard let word = memory[Int(k)] else { throw .scratchReadBeforeWrite(index: pc - 1, slot: k) }
                if code == BPF.ld | BPF.mem { a = word } else { x = word }
            case BPF.st, BPF.stx:
                guard Int(k) < Self.scratchWords else { throw .scratchOutOfRange(index: pc - 1, slot: k) }
                memory[Int(k)] = code == BPF.st ? a : x
            // Register moves.
            case BPF.misc | BPF.tax:
                x = a
            case BPF.misc | BPF.txa:
                a = x
            // Returns.
            case BPF.ret | BPF.k:
                return k
            case BPF.ret | BPF.a:
                return a
            // Arithmetic: the operations seccomp's checker accepts, with K or X.
            case BPF.alu | BPF.neg:
                a = 0 &- a
            case _ where code & 0xff07 == BPF.alu && BPF.aluOperations.contains(code & 0xf0):
                a = try alu(operation: code & 0xf0, a: a, operand: code & BPF.x != 0 ? x : k, at: pc - 1)
            // Jumps: always forward, so every program ends.
            case BPF.jmp | BPF.ja:
                pc += Int(k)
            case _ where code & 0xff07 == BPF.jmp && BPF.conditionalJumps.contains(code & 0xf0):
                let operand = code & BPF.x != 0 ? x : k
                let taken =
                    switch code & 0xf0 {
                    case BPF.jeq: a == operand
                    case BPF.jgt: a > operand
                    case BPF.jge: a >= operand
                    default: a & operand != 0  // BPF_JSET
                    }
                pc += Int(taken ? instruction.jt : instruction.jf)
            default:
                throw .unsupportedInstruction(index: pc - 1, code: code)
            }
        }
        // The kernel's checker refuses a program whose last instruction is
        // not a return, and jumps past the end.
        throw .ranPastTheEnd(length: instructions.count)
    }

    private func alu(operation: UInt16, a: UInt32, operand: UInt32, at index: Int) throws(SeccompFilterError) -> UInt32
    {
        switch operation {
        case BPF.add: return a &+ operand
        case BPF.sub: return a &- operand
        case BPF.mul: return a &* operand
        case BPF.div:
            // Division by a zero X ends the kernel's program with 0
            // (SECCOMP_RET_KILL_THREAD); a zero K never loads. Refused rather
            // than emulated: no real filter relies on it.
            guard operand != 0 else { throw .divisionByZero(index: index) }
            return a / operand
        case BPF.and: return a & operand
        case BPF.or: return a | operand
        case BPF.xor: return a ^ operand
        default:
            // BPF_LSH or BPF_RSH. The kernel refuses K >= 32 at load time;
            // for X the result is whatever the CPU does, so it is refused here.
            guard operand < 32 else { throw .shiftOutOfRange(index: index, amount: operand) }
            return operation == BPF.lsh ? a << operand : a >> operand
        }
    }
}

/// `struct seccomp_data`: what a filter sees of a system call.
public struct SeccompData: Sendable, Equatable {
    public var nr: Int32
    public var arch: UInt32
    public var instructionPointer: UInt64
    /// Six arguments; missing ones are zero.
    public var args: [UInt64]

    public init(
        nr: Int32, arch: UInt32 = SeccompData.auditArchX86_64, instructionPointer: UInt64 = 0, args: [UInt64] = []
    ) {
        self.nr = nr
        self.arch = arch
        self.instructionPointer = instructionPointer
        self.args = args
    }

    /// `AUDIT_ARCH_X86_64`: `EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    // Named after the kernel's constant, whose architecture name has an underscore.
    public static let auditArchX86_64: UInt32 = 0xC000_003E

    /// The 32-bit word at byte `offset`, as the kernel's seccomp loads it:
    /// aligned, inside the structure, in the host's (little-endian) order,
    /// so the low half of a 64-bit field comes first.
    func word(at offset: UInt32) -> UInt32? {
        guard offset % 4 == 0, offset < SeccompFilter.dataSize else { return nil }
        func half(_ value: UInt64, high: Bool) -> UInt32 { UInt32(truncatingIfNeeded: high ? value >> 32 : value) }
        switch offset {
        case 0: return UInt32(bitPattern: nr)
        case 4: return arch
        case 8, 12: return half(instructionPointer, high: offset == 12)
        default:
            let argument = Int(offset - 16) / 8
            let value = argument < args.count ? args[argument] : 0
            return half(value, high: offset % 8 == 4)
        }
    }
}

/// What a filter's verdict makes the kernel do (`SECCOMP_RET_ACTION_FULL`).
public enum SeccompAction: Sendable, Equatable {
    case killProcess, killThread, trap, errno, userNotify, trace, log, allow

    /// Decodes a verdict. An action the kernel does not know counts as
    /// `SECCOMP_RET_KILL_PROCESS`, as the kernel treats it.
    public init(verdict: UInt32) {
        switch verdict & 0xFFFF_0000 {
        case 0x0000_0000: self = .killThread
        case 0x0003_0000: self = .trap
        case 0x0005_0000: self = .errno
        case 0x7FC0_0000: self = .userNotify
        case 0x7FF0_0000: self = .trace
        case 0x7FFC_0000: self = .log
        case 0x7FFF_0000: self = .allow
        default: self = .killProcess
        }
    }

    /// Whether the kernel runs the system call on its own. ALLOW and LOG
    /// do. ERRNO, TRAP and the KILLs do not. TRACE runs it only when a
    /// tracer asks for it (without one the call fails with ENOSYS), and
    /// USER_NOTIF hands it to a supervisor process, which may or may not let
    /// it run: both count as not allowed, since the process alone cannot
    /// make the call.
    public var allowsTheCall: Bool { self == .allow || self == .log }
}

public enum SeccompFilterError: Error, CustomStringConvertible, Equatable, Sendable {
    case unsupportedInstruction(index: Int, code: UInt16)
    case loadOutOfRange(index: Int, offset: UInt32)
    case scratchOutOfRange(index: Int, slot: UInt32)
    case scratchReadBeforeWrite(index: Int, slot: UInt32)
    case shiftOutOfRange(index: Int, amount: UInt32)
    case divisionByZero(index: Int)
    case ranPastTheEnd(length: Int)

    public var description: String {
        switch self {
        case .unsupportedInstruction(let index, let code):
            "instruction \(index) has code 0x\(String(code, radix: 16)), which seccomp filters cannot use or mvm does not interpret"
        case .loadOutOfRange(let index, let offset):
            "instruction \(index) loads a word at byte \(offset), outside seccomp_data or unaligned"
        case .scratchOutOfRange(let index, let slot):
            "instruction \(index) uses scratch word \(slot); there are \(SeccompFilter.scratchWords)"
        case .scratchReadBeforeWrite(let index, let slot):
            "instruction \(index) reads scratch word \(slot) before anything was stored there"
        case .shiftOutOfRange(let index, let amount):
            "instruction \(index) shifts by \(amount) bits, which BPF leaves undefined"
        case .divisionByZero(let index):
            "instruction \(index) divides by zero"
        case .ranPastTheEnd(let length):
            "the program (\(length) instructions) ends without a return"
        }
    }
}

/// Classic BPF opcode parts (linux/bpf_common.h, linux/filter.h).
enum BPF {
    // Classes.
    static let ld: UInt16 = 0x00
    static let ldx: UInt16 = 0x01
    static let st: UInt16 = 0x02
    static let stx: UInt16 = 0x03
    static let alu: UInt16 = 0x04
    static let jmp: UInt16 = 0x05
    static let ret: UInt16 = 0x06
    static let misc: UInt16 = 0x07
    // Sizes and modes.
    static let w: UInt16 = 0x00
    static let h: UInt16 = 0x08
    static let b: UInt16 = 0x10
    static let imm: UInt16 = 0x00
    static let abs: UInt16 = 0x20
    static let ind: UInt16 = 0x40
    static let mem: UInt16 = 0x60
    static let len: UInt16 = 0x80
    // ALU operations.
    static let add: UInt16 = 0x00
    static let sub: UInt16 = 0x10
    static let mul: UInt16 = 0x20
    static let div: UInt16 = 0x30
    static let or: UInt16 = 0x40
    static let and: UInt16 = 0x50
    static let lsh: UInt16 = 0x60
    static let rsh: UInt16 = 0x70
    static let neg: UInt16 = 0x80
    static let xor: UInt16 = 0xa0
    /// The two-operand ALU operations seccomp accepts (not BPF_MOD).
    static let aluOperations: Set<UInt16> = [add, sub, mul, div, or, and, xor, lsh, rsh]
    // Jumps.
    static let ja: UInt16 = 0x00
    static let jeq: UInt16 = 0x10
    static let jgt: UInt16 = 0x20
    static let jge: UInt16 = 0x30
    static let jset: UInt16 = 0x40
    static let conditionalJumps: Set<UInt16> = [jeq, jgt, jge, jset]
    // Operand sources and return values.
    static let k: UInt16 = 0x00
    static let x: UInt16 = 0x08
    static let a: UInt16 = 0x10
    // Miscellaneous.
    static let tax: UInt16 = 0x00
    static let txa: UInt16 = 0x80
}
