import Coordinator
import Foundation
import Meta
import MultiRaft
import RaftCore
import Synchronization

extension FlotillaNode {
    /// The node's background duties, once a second: learn new nodes' addresses, report leader hints; every few seconds, remove groups that
    /// meta no longer places here (what a crash left), and, on the meta leader, expire buckets past their TTL
    /// and finish membership changes left pending.
    func runMaintenance() async {
        var round = 0
        while true {
            do {
                try await Task.sleep(for: .seconds(1))
            } catch {
                return
            }
            round += 1
            // Nothing to do while the node cannot persist (`watchStorage` restarts it once the disk works).
            if await host.inspect({ $0.storageError }) != nil { continue }
            learnPeerAddresses()  // a registration applied before a restart restored meta from a snapshot
            for line in await assembly.maintain(round: round) { logger.info("\(line)") }
        }
    }

    /// Restarts the process (`exec`) once the disk works again after a storage failure, warning every 10 s
    /// meanwhile.
    func watchStorage() async {
        let logger = logger
        let probes = Mutex(0)
        await assembly.watchStorage(isAlive: { true }) { failure in
            let count = probes.withLock { count in
                count += 1
                return count
            }
            if count % 10 == 1 { logger.warning("storage failed (\(failure)); waiting for the disk to work again") }
        } restart: {
            StorageRecovery.restartProcess(logger: logger)
        }
    }
}
