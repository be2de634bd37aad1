print("wal-bench: not yet written")
