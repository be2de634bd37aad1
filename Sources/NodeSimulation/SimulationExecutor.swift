import Synchronization

/// Runs the simulated nodes' async code (coordinators, client operations) on the simulator's thread, one job at
/// a time in the order they became ready: tasks started with this executor as their preference never run
/// anywhere else, so their interleaving is a function of the seed.
public final class SimulationExecutor: TaskExecutor {
    private let jobs = Mutex<[UnownedJob]>([])

    public init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
    }

    /// Runs every ready job, and those they make ready, until none is left.
    /// - Returns: true if any job ran.
    @discardableResult
    func runReady() -> Bool {
        var ran = false
        while true {
            let batch = jobs.withLock { jobs -> [UnownedJob] in
                defer { jobs = [] }
                return jobs
            }
            if batch.isEmpty { return ran }
            ran = true
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
