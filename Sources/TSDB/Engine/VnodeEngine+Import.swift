import LineProtocol

extension VnodeEngine {
    /// Writes the points that `nextBatch` hands out until it answers `nil` into a new column file (fsynced, renamed, the directory fsynced) that becomes the vnode's
    /// oldest layer, and lists it in the manifest without changing the covered index: newer layers still win an
    /// upsert of the same row.
    ///
    /// For offline tools that build a large vnode quickly (`engine-bench --grow`, to measure a restart with many
    /// gigabytes on disk). The points bypass the Raft log, so no other replica of the vnode has them and its
    /// checksum differs from theirs: call it only on the directory of a stopped node.
    public func importAsOldest(_ nextBatch: () -> [Point]?) throws(ColumnFileError) {
        let table = Memtable()
        while let batch = nextBatch() {
            for point in batch { table.upsert(point) }
        }
        guard !table.isEmpty else { return }
        let task = FlushTask(
            number: takeFileNumber(), coveredIndex: manifest.coveredIndex, state: manifest.state,
            memtable: FrozenMemtable(table, coveredIndex: manifest.coveredIndex), directory: directory,
            fileSystem: fileSystem, blockRows: options.blockRows)
        let imported = try task.run()
        var next = manifest
        next.files.insert(imported.number, at: 0)
        try install(next, files: [imported.file] + files)
    }
}
