import Foundation
import MultiRaft
import RaftCore
import Testing

@Suite("Client requests apply once")
struct DeduplicationTests {
    static func request(_ sequence: UInt64, first: UInt64 = 1, client: UInt64 = 7) -> ClientRequest {
        ClientRequest(client: client, epoch: 42, sequence: sequence, firstIncomplete: first)
    }

    static func set(_ key: String, _ value: String) -> [UInt8] {
        KeyValueMachine.setCommand(key: key, value: Array(value.utf8))
    }

    static func value(_ machine: any StateMachine, _ key: String) -> String? {
        (machine.unwrapped as? KeyValueMachine)?.values[key].map { String(decoding: $0, as: UTF8.self) }
    }

    /// W1 commits, W2 to the same key commits (and is acknowledged), then a retried copy of W1 commits.
    static func retryAfterLaterWrite(_ machine: any StateMachine) {
        let w1 = request(1).envelope(set("x", "1"))
        let w2 = request(2).envelope(set("x", "2"))
        _ = machine.apply(w1[...], at: LogIndex(1))
        _ = machine.apply(w2[...], at: LogIndex(2))
        _ = machine.apply(w1[...], at: LogIndex(3))
    }

    @Test("a retried copy of a write that commits after a later write does not undo it")
    func retryDoesNotUndoLaterWrite() {
        let machine = DeduplicatingMachine(KeyValueMachine())
        Self.retryAfterLaterWrite(machine)
        #expect(Self.value(machine, "x") == "2")
        #expect((machine.base as! KeyValueMachine).appliedCommands == 2)
    }

    @Test("without sessions the same history reverts the acknowledged write (the hazard the sessions remove)")
    func plainMachineShowsTheHazard() {
        let plain = KeyValueMachine()
        let w1 = Self.set("x", "1")
        let w2 = Self.set("x", "2")
        _ = plain.apply(w1[...], at: LogIndex(1))
        _ = plain.apply(w2[...], at: LogIndex(2))
        _ = plain.apply(w1[...], at: LogIndex(3))
        #expect(Self.value(plain, "x") == "1")
    }

    @Test("a duplicate is answered with the first attempt's result")
    func duplicateAnswersFirstResult() {
        final class Counter: StateMachine {
            var count = 0
            func apply(_ command: ArraySlice<UInt8>, at index: LogIndex) -> [UInt8] {
                count += 1
                return [UInt8(count)]
            }
            func snapshot() -> [UInt8] { [UInt8(count)] }
            func restore(_ data: [UInt8]) throws { count = Int(data.first ?? 0) }
            var checksum: UInt64 { UInt64(count) }
        }
        let machine = DeduplicatingMachine(Counter())
        let command = Self.request(5).envelope([9])
        #expect(machine.apply(command[...], at: LogIndex(1)) == [1])
        #expect(machine.apply(command[...], at: LogIndex(2)) == [1])
        #expect(machine.apply(Self.request(6).envelope([9])[...], at: LogIndex(3)) == [2])
    }

    @Test("results below the client's first incomplete request are forgotten; a late copy of one is refused")
    func floorForgetsAndRefuses() {
        let machine = DeduplicatingMachine(KeyValueMachine())
        let old = Self.request(1).envelope(Self.set("x", "1"))
        _ = machine.apply(old[...], at: LogIndex(1))
        _ = machine.apply(Self.request(3, first: 3).envelope(Self.set("y", "3"))[...], at: LogIndex(2))
        #expect(machine.apply(old[...], at: LogIndex(3)) == DeduplicatingMachine.expiredAnswer)
        #expect((machine.base as! KeyValueMachine).appliedCommands == 2)
        #expect(
            machine.sessions.clientCount == 1 && machine.sessions.resultCount == 1, "only request 3's result is kept")
    }

    @Test("plain commands pass through; other clients and boots are separate")
    func clientsAreSeparate() {
        let machine = DeduplicatingMachine(KeyValueMachine())
        _ = machine.apply(Self.set("a", "1")[...], at: LogIndex(1))
        _ = machine.apply(Self.set("a", "1")[...], at: LogIndex(2))
        _ = machine.apply(Self.request(1, client: 1).envelope(Self.set("b", "1"))[...], at: LogIndex(3))
        _ = machine.apply(Self.request(1, client: 2).envelope(Self.set("b", "2"))[...], at: LogIndex(4))
        #expect((machine.base as! KeyValueMachine).appliedCommands == 4)
        #expect(Self.value(machine, "b") == "2")
    }

    @Test("the session table travels in the snapshot, restored from chunks of any size", arguments: [1, 7, 1 << 20])
    func snapshotKeepsSessions(chunk: Int) throws {
        let machine = DeduplicatingMachine(KeyValueMachine())
        let w1 = Self.request(1).envelope(Self.set("x", "1"))
        _ = machine.apply(w1[...], at: LogIndex(1))
        _ = machine.apply(Self.request(2).envelope(Self.set("x", "2"))[...], at: LogIndex(2))
        var bytes: [UInt8] = []
        try machine.snapshotSource().write { bytes += $0 }
        #expect(bytes == machine.snapshot())
        let restored = DeduplicatingMachine(KeyValueMachine())
        var offset = 0
        try restored.restore(chunks: {
            guard offset < bytes.count else { return nil }
            defer { offset += chunk }
            return Array(bytes[offset..<min(bytes.count, offset + chunk)])
        })
        #expect(restored.sessions == machine.sessions)
        _ = restored.apply(w1[...], at: LogIndex(3))
        #expect(Self.value(restored, "x") == "2")
        #expect(throws: SessionSnapshotError.self) { try restored.restore(Array(bytes.prefix(12))) }
        #expect(throws: SessionSnapshotError.self) { try restored.restore(KeyValueMachine().snapshot()) }
    }

    @Test("the table is bounded: the least recently seen client goes first")
    func clientsAreBounded() {
        var table = SessionTable()
        for client in 0..<UInt64(SessionTable.maxClients + 10) {
            let request = Self.request(1, client: client)
            #expect(table.check(request, at: LogIndex(client + 1)) == .apply)
            table.record(request, result: [])
        }
        #expect(table.clientCount == SessionTable.maxClients)
        #expect(
            table.check(Self.request(1, client: UInt64(SessionTable.maxClients + 9)), at: LogIndex(9_999))
                == .duplicate([]))
        #expect(SessionTable(decoding: table.encoded()) == table)
    }

    @Test("on three hosts, a retried proposal through another node does not undo a later acknowledged write")
    func retryThroughAnotherNode() async throws {
        let group = GroupID(1)
        let cluster = try HostCluster(nodes: 3, groups: [group], deduplicate: true)
        defer { cluster.shutdown() }
        try await cluster.put("warm", "up", group: group, via: NodeID(1))
        let w1 = Self.request(1).envelope(Self.set("x", "1"))
        _ = try await cluster.hosts[NodeID(1)]!.propose(w1, to: group)
        _ = try await cluster.hosts[NodeID(2)]!.propose(Self.request(2).envelope(Self.set("x", "2")), to: group)
        _ = try await cluster.hosts[NodeID(3)]!.propose(w1, to: group)
        for id in cluster.ids { #expect(try await cluster.get("x", group: group, via: id) == "2") }
    }
}
