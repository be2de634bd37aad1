print("wal-crash-writer: not yet written")
