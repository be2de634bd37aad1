import MultiRaft

/// How a node whose storage failed notices that its disk works again (the server and the node-level simulation
/// watch the same way; what "restart" means is theirs: the server `exec`s itself, the simulator starts a new boot).
extension NodeAssembly {
    /// Once a second, for as long as `isAlive()`: if the host's storage has failed, probes the WAL's directory
    /// (a 4 MiB write and sync); once that works, cuts what the failed append left unsynced in the WAL, then
    /// calls `restart` and returns. `waiting` hears why while the disk still fails. Runs beside the maintenance
    /// rounds, never behind them: a maintenance step may wait for a long while (a pending replica change, up to
    /// its timeout), and a node with a failed disk must not wait with it.
    public func watchStorage(
        isAlive: @escaping @Sendable () -> Bool, waiting: @escaping @Sendable (_ failure: String) -> Void,
        restart: @escaping @Sendable () -> Void
    ) async {
        let walDirectory = host.settings.dataDirectory + "/wal"
        while true {
            await host.environment.sleep(milliseconds: 1_000)
            guard isAlive() else { return }
            guard let failure = await host.inspect({ $0.storageError }) else { continue }
            guard isAlive() else { return }
            guard host.environment.fileSystem.probe(walDirectory) else {
                waiting(failure)
                continue
            }
            if let problem = await host.discardUnsyncedLogTail() {
                waiting(problem)
                continue
            }
            restart()
            return
        }
    }
}
