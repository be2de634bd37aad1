import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// How a node whose storage failed comes back by itself. When the WAL cannot be written (disk full, EIO) the
/// host stops taking part in its groups at once: it falls silent, so its peers elect other leaders within an
/// election timeout, and every request it cannot persist is refused (507 for a full disk, 503 otherwise). Its
/// durable state is what it acknowledged. Once a probe write with fsync succeeds in the WAL's directory again,
/// the process replaces itself with a fresh start of the same command line (`exec`, same pid): recovery cuts the
/// WAL's torn tail as after a crash and every group rejoins from its durable state.
enum StorageRecovery {
    /// Replaces the process with a fresh start of its own command line. Every descriptor but standard input,
    /// output and error is made close-on-exec first (SwiftNIO's sockets are not), so that the new image binds its
    /// ports and takes the data directory lock anew.
    static func restartProcess(logger: Logger) -> Never {
        logger.notice("storage works again: restarting this node to recover its WAL and rejoin its groups")
        fflush(nil)  // every stream: the log lines above reach the file before the image is replaced
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            guard let fd = Int32(name), fd > 2 else { continue }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        // The signal mask and ignored signals survive exec, and this runs on a thread that blocks signals: the
        // new image would never see SIGTERM.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        logger.critical("could not restart (errno \(errno)); exiting so that a supervisor starts the node again")
        exit(75)
    }
}
