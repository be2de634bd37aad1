import MultiRaft
import RaftCore
import RaftStorage
import Synchronization

/// One boot of a simulated node's view of the world: virtual time, a generator seeded from the run's seed,
/// background work that the simulator runs at a moment it picks (dropped if the node crashed meanwhile, as its
/// threads would be; each lane's pieces in the order given, as `HostEnvironment` promises, and the `.reads`
/// lane's in any order), and the node's simulated disk.
final class VirtualEnvironment: HostEnvironment {
    private unowned let world: NodeWorld
    private let node: UInt64
    private let boot: Int
    private let generator: Mutex<SplitMix64>
    /// When each lane's last piece of work runs: the next one runs after it.
    private let laneTail = Mutex<[BackgroundLane: UInt64]>([:])
    let fileSystem: any FileSystem

    init(world: NodeWorld, node: UInt64, boot: Int, seed: UInt64, disk: SimulatedDisk) {
        self.world = world
        self.node = node
        self.boot = boot
        self.generator = Mutex(SplitMix64(seed: seed))
        self.fileSystem = disk
    }

    func monotonicNanoseconds() -> UInt64 { world.now }

    /// 2026-01-01 plus virtual time.
    func wallNanoseconds() -> Int64 { 1_767_225_600_000_000_000 + Int64(world.now) }

    func random() -> UInt64 { generator.withLock { $0.next() } }

    func background(_ lane: BackgroundLane, _ work: @escaping @Sendable () -> Void) {
        let event = WorldEvent.background(node: node, boot: boot, work)
        guard lane != .reads else {
            _ = world.scheduleBackground(event, notBefore: 0)
            return
        }
        laneTail.withLock { tail in
            tail[lane] = world.scheduleBackground(event, notBefore: (tail[lane] ?? 0) + 1)
        }
    }

    /// Nothing to wait for: the simulator runs background work as events of its own.
    func drainBackground() {}

    func sleep(milliseconds: Int) async { await world.sleepTask(milliseconds: milliseconds) }
}
