import CLibvirt

/// A non-blocking libvirt data stream (`virStreamPtr`), freed exactly once
/// when the last reference goes away. Data is taken in a callback that
/// libvirt's event loop runs when the stream is readable: how `virsh console`
/// reads consoles. (A thread blocked in a blocking receive lost the tail of
/// console lines now and then.)
final class Stream: @unchecked Sendable {
    private let pointer: virStreamPtr

    /// For the other wrappers of this layer (consoles); never leaves it.
    var rawPointer: virStreamPtr { pointer }

    /// Takes ownership of a handle libvirt returned.
    init(owning pointer: virStreamPtr) {
        self.pointer = pointer
    }

    deinit {
        virStreamFree(pointer)
    }

    /// What a non-blocking receive gave.
    enum Received {
        case data(Int)
        case wouldBlock
        case end
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Received {
        guard let base = buffer.baseAddress else { return .end }
        let count = virStreamRecv(pointer, base.assumingMemoryBound(to: CChar.self), buffer.count)
        switch count {
        case 0: return .end
        case -2: return .wouldBlock
        case ..<0:
            virResetLastError()
            return .end
        default: return .data(Int(count))
        }
    }

    /// What a non-blocking send did.
    enum Sent {
        case count(Int)
        case wouldBlock
        case failed
    }

    /// Sends what it can of `bytes` (what is typed into a console).
    func send(_ bytes: UnsafeRawBufferPointer) -> Sent {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .count(0) }
        let count = virStreamSend(pointer, base.assumingMemoryBound(to: CChar.self), bytes.count)
        switch count {
        case -2: return .wouldBlock
        case ..<0:
            virResetLastError()
            return .failed
        default: return .count(Int(count))
        }
    }

    /// Calls `onReadable` on libvirt's event-loop thread whenever the stream
    /// has data, has ended or has failed. The closure lives until
    /// `stopWatching()` (libvirt then releases it).
    func watch(onReadable: @escaping @Sendable (Stream) -> Void) throws(LibvirtError) {
        let box = Unmanaged.passRetained(StreamWatch(stream: self, onReadable: onReadable)).toOpaque()
        let events = Int32(
            VIR_STREAM_EVENT_READABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue | VIR_STREAM_EVENT_HANGUP.rawValue)
        let added = virStreamEventAddCallback(
            pointer, events,
            { _, _, opaque in
                guard let opaque else { return }
                let watch = Unmanaged<StreamWatch>.fromOpaque(opaque).takeUnretainedValue()
                watch.onReadable(watch.stream)
            }, box,
            { opaque in
                guard let opaque else { return }
                Unmanaged<StreamWatch>.fromOpaque(opaque).release()
            })
        guard added == 0 else {
            Unmanaged<StreamWatch>.fromOpaque(box).release()
            throw .takeLast(context: "watching the guest console stream")
        }
    }

    /// Stops the callbacks and ends the stream; safe to call more than once.
    func stopWatching() {
        if virStreamEventRemoveCallback(pointer) != 0 { virResetLastError() }
        if virStreamAbort(pointer) != 0 { virResetLastError() }
    }
}

/// The closure and stream a libvirt stream callback gets as its opaque pointer.
private final class StreamWatch: Sendable {
    let stream: Stream
    let onReadable: @Sendable (Stream) -> Void

    init(stream: Stream, onReadable: @escaping @Sendable (Stream) -> Void) {
        self.stream = stream
        self.onReadable = onReadable
    }
}
