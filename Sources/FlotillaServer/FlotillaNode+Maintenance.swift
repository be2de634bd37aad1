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
            if let failure = await host.inspect({ $0.storageError }) {
                // Nothing else to do while the node cannot persist: wait for the disk, then start afresh.
                if host.environment.fileSystem.probe(options.dataDirectory + "/wal") {
                    StorageRecovery.restartProcess(logger: logger)
                }
                if round % 10 == 1 { logger.warning("storage failed (\(failure)); waiting for the disk to work again") }
                continue
            }
            learnPeerAddresses()  // a registration applied before a restart restored meta from a snapshot
            for line in await assembly.maintain(round: round) { logger.info("\(line)") }
        }
    }
}
