import Foundation
import RaftCore
import RaftTransport
import RaftWire
import Synchronization
import Testing

/// Collects what a transport delivers, for assertions.
final class Recorder: TransportDelegate {
    let frames = Mutex<[(NodeID, WireFrame)]>([])
    let connected = Mutex<Set<NodeID>>([])

    func transport(received frames: [WireFrame], from peer: NodeID) {
        self.frames.withLock { $0 += frames.map { (peer, $0) } }
    }
    func transport(peer: NodeID, connected: Bool) {
        self.connected.withLock { set in
            if connected { set.insert(peer) } else { set.remove(peer) }
        }
    }
}

/// Polls `condition` (on a live system) for up to `seconds`, and at least 100 times: when the whole suite runs,
/// other tests block the cooperative threads for long stretches (waiting for processes to exit), and a deadline
/// alone could pass before the condition (which here first starts a dial) was ever given a fair number of tries.
func waitUntil(_ seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    var polls = 0
    while Date() < deadline || polls < 100 {
        polls += 1
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return false
}

@Suite("NIO transport on loopback", .serialized)
struct TransportTests {
    func makePair(clusterA: UInt64 = 7, clusterB: UInt64 = 7) throws -> (NIOTransport, NIOTransport, Recorder, Recorder)
    {
        var ports = [try freePort()]
        while ports.count < 2 {
            let port = try freePort()
            if port != ports[0] { ports.append(port) }
        }
        let a = NIOTransport(
            settings: TransportSettings(
                clusterID: clusterA, nodeID: NodeID(1), listen: PeerAddress(host: "127.0.0.1", port: ports[0]),
                peers: [NodeID(2): PeerAddress(host: "127.0.0.1", port: ports[1])]))
        let b = NIOTransport(
            settings: TransportSettings(
                clusterID: clusterB, nodeID: NodeID(2), listen: PeerAddress(host: "127.0.0.1", port: ports[1]),
                peers: [NodeID(1): PeerAddress(host: "127.0.0.1", port: ports[0])]))
        let (ra, rb) = (Recorder(), Recorder())
        try a.start(delegate: ra)
        try b.start(delegate: rb)
        return (a, b, ra, rb)
    }

    @Test("frames cross one connection in both directions, in order")
    func exchange() async throws {
        let (a, b, ra, rb) = try makePair()
        defer {
            a.shutdown()
            b.shutdown()
        }
        let message = Message(from: NodeID(1), to: NodeID(2), term: Term(3), body: .timeoutNow)
        #expect(
            await waitUntil {
                a.send([.ping], to: NodeID(2))
                return !rb.frames.withLock { $0.isEmpty }
            })
        a.send((0..<100).map { _ in .message(group: GroupID(9), message) }, to: NodeID(2))
        #expect(
            await waitUntil {
                rb.frames.withLock { $0.filter { if case .message = $0.1 { true } else { false } }.count } == 100
            })
        // The accepting side answers over the same connection (it never dials the lower id).
        b.send([.ping], to: NodeID(1))
        #expect(await waitUntil { !ra.frames.withLock { $0.isEmpty } })
        #expect(rb.frames.withLock { $0.allSatisfy { $0.0 == NodeID(1) } })
    }

    @Test("a node of another cluster is refused at the handshake and delivers nothing")
    func otherClusterRefused() async throws {
        let (a, b, _, rb) = try makePair(clusterA: 7, clusterB: 8)
        defer {
            a.shutdown()
            b.shutdown()
        }
        #expect(
            await waitUntil {
                a.send([.ping], to: NodeID(2))
                return b.statistics.refusedConnections > 0
            })
        #expect(rb.frames.withLock { $0.isEmpty })
        #expect(rb.connected.withLock { $0.isEmpty })
    }

    @Test("a stranger sending garbage is refused, and the node keeps serving its peers")
    func strangerRefused() async throws {
        let (a, b, _, rb) = try makePair()
        defer {
            a.shutdown()
            b.shutdown()
        }
        let port = b.settings.listen.port
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        let garbage = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        _ = write(fd, garbage, garbage.count)
        #expect(await waitUntil { b.statistics.refusedConnections == 1 })
        close(fd)
        #expect(
            await waitUntil {
                a.send([.ping], to: NodeID(2))
                return !rb.frames.withLock { $0.isEmpty }
            })
    }

    @Test("isolation drops frames both ways until healed")
    func isolation() async throws {
        let (a, b, _, rb) = try makePair()
        defer {
            a.shutdown()
            b.shutdown()
        }
        #expect(
            await waitUntil {
                a.send([.ping], to: NodeID(2))
                return !rb.frames.withLock { $0.isEmpty }
            })
        a.isolate(from: [NodeID(2)])
        let before = rb.frames.withLock { $0.count }
        for _ in 0..<10 { a.send([.ping], to: NodeID(2)) }
        #expect(a.statistics.framesDropped >= 10)
        a.isolate(from: [])
        #expect(
            await waitUntil {
                a.send([.ping], to: NodeID(2))
                return rb.frames.withLock { $0.count } > before
            })
    }
}

/// A free port below the kernel's ephemeral range (so that concurrent tests' outgoing connections cannot take it).
func freePort() throws -> Int {
    for _ in 0..<10_000 {
        let port = Int.random(in: 20_000..<32_000)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        if ok { return port }
    }
    throw POSIXError(.EADDRINUSE)
}
