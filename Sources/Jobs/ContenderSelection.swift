import Foundation

/// Which contenders a comparison starts: `--contenders LIST`, of which
/// `--no-reference`, `--stock` and `--warm` are shorthands.
public struct ContenderSelection: Sendable, Equatable {
    /// mvm's contenders, in the table's order.
    public enum Name: String, Sendable, CaseIterable {
        case vm
        case container
        case qemuDirect = "qemu-direct"
        case runcDirect = "runc-direct"
        case vmWarm = "vm-warm"
        case vmStock = "vm-stock"
        /// gVisor's runsc: the container in a user-space kernel's sandbox.
        case gvisor
        case podman
        case docker

        /// The contenders that need software beyond mvm's own set-up.
        public static let isolationLadder: [Name] = [.gvisor, .podman, .docker]
    }

    public private(set) var names: Set<Name>

    /// What `mvm compare` starts unless told otherwise.
    public static let standard = ContenderSelection(names: [.vm, .container, .qemuDirect, .runcDirect])

    public init(names: Set<Name>) {
        self.names = names
    }

    /// The shorthands' selection.
    public init(references: Bool, stock: Bool, warm: Bool) {
        var names: Set<Name> = [.vm, .container]
        if references { names.formUnion([.qemuDirect, .runcDirect]) }
        if stock { names.insert(.vmStock) }
        if warm { names.insert(.vmWarm) }
        self.init(names: names)
    }

    /// `vm,container,vm-stock`, `default`, or `all` (every contender that
    /// can run: vm-stock only when Debian's kernel was built,
    /// `stockKernelExists`; gvisor, podman and docker only where `usable`
    /// says the doctor finds them usable).
    public init(
        parsing list: String, stockKernelExists: Bool, usable: (Name) -> Bool = { _ in true }
    ) throws(ContenderSelectionError) {
        let words = list.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var names: Set<Name> = []
        for word in words {
            switch word {
            case "all":
                names.formUnion(
                    Name.allCases.filter { name in
                        if name == .vmStock { return stockKernelExists }
                        return !Name.isolationLadder.contains(name) || usable(name)
                    })
            case "default":
                names.formUnion(Self.standard.names)
            default:
                guard let name = Name(rawValue: word) else { throw .unknown(word) }
                names.insert(name)
            }
        }
        // The declared ratios set every row against these two.
        guard names.contains(.vm), names.contains(.container) else { throw .pairMissing(list) }
        self.init(names: names)
    }

    public func includes(_ name: Name) -> Bool { names.contains(name) }

    /// The list, in the table's order.
    public var description: String {
        Name.allCases.filter(names.contains).map(\.rawValue).joined(separator: ",")
    }
}

/// A `--contenders` list mvm cannot start.
public enum ContenderSelectionError: Error, CustomStringConvertible, Equatable {
    case unknown(String)
    case pairMissing(String)

    public var description: String {
        let known = ContenderSelection.Name.allCases.map(\.rawValue).joined(separator: ", ")
        switch self {
        case .unknown(let word):
            return
                "--contenders names \(word.isEmpty ? "an empty contender" : "'\(word)'"), which mvm does not know: use \(known), default or all"
        case .pairMissing(let list):
            return "--contenders \(list) leaves out vm or container, against which every ratio is declared: keep both"
        }
    }
}
