import Foundation
import LineProtocol
import RaftStorage
import Testing

@testable import TSDB

/// A scan in pages gives the whole scan's rows, once each, in the same order, whatever the page size, with a
/// series cut in time where it does not fit a page; each page stays near its budget.
@Suite("Vnode scans in pages")
struct ScanPageTests {
    /// Every page of `measurement` in `[start, end)` of `rows` rows, through the query's and answer's bytes.
    static func pages(
        _ engine: VnodeEngine, _ measurement: String, start: Int64, end: Int64, rows: Int
    ) throws -> [[Row]] {
        var pages: [[Row]] = []
        var after: ScanCursor?
        repeat {
            let request = VnodeQuery.scan(
                measurement: measurement, start: start, end: end, rowBatches: true,
                page: ScanPage(rows: rows, after: after))
            guard case .scan(_, _, _, _, _, _, _, let page?) = try VnodeQuery(bytes: request.bytes) else {
                Issue.record("the page did not survive its encoding")
                return pages
            }
            #expect(page.after == after)
            var encoder = RowBatchCodec.Encoder()
            let next = try engine.view(of: measurement).scanPage(
                measurement, start: start, end: end, tags: [], fields: nil, after: page.after, rowBudget: page.rows,
                into: &encoder)
            let answer = try VnodeQuery.page(from: ScanPage.answer(next: next, rows: encoder.finish()))
            #expect(answer.next == next)
            pages.append(answer.rows)
            after = answer.next
            if pages.count > 10_000 {
                Issue.record("no end after 10,000 pages")
                break
            }
        } while after != nil
        return pages
    }

    @Test("pages of any size add up to the whole scan", arguments: 0..<8 as Range<UInt64>)
    func pagesAddUp(seed: UInt64) throws {
        let directory = try ColumnFileTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = CodecTests.Generator(state: seed)
        let engine = try VnodeEngine.open(
            directory: directory, fileSystem: POSIXFileSystem(), options: VnodeEngineTests.options())
        for index in 1...120 as ClosedRange<UInt64> {
            engine.apply(VnodeEngineTests.batch(&random), at: index)
            if index % 30 == 0 { try engine.flushNow() }
            if index == 90 { try engine.compactNow() }
        }
        // Rows in the memtable too (the last 30 batches), then all in files.
        for flushed in [false, true] {
            if flushed { try engine.flushNow() }
            for _ in 0..<4 {
                let start = random.next() % 3 == 0 ? Int64.min : Int64(random.next() % 200) * 1_000_000_000
                let end = random.next() % 3 == 0 ? Int64.max : start + Int64(1 + random.next() % 300) * 1_000_000_000
                let whole = try engine.scan("cpu", start: start, end: end)
                let budget = Int(1 + random.next() % 80)
                let pages = try Self.pages(engine, "cpu", start: start, end: end, rows: budget)
                let rows = pages.flatMap { $0 }
                #expect(
                    rows == whole,
                    "seed \(seed), \(flushed ? "files" : "files and memtable"), [\(start), \(end)), pages of \(budget): \(rows.count) rows, expected \(whole.count)"
                )
                if flushed {
                    // Past the budget by at most the blocks (of 16 rows) that start where the page's series begins,
                    // one per file.
                    let bound = budget + 16 * engine.files.count
                    #expect(
                        pages.allSatisfy { $0.count <= bound },
                        "seed \(seed): pages of \(budget) rows came as \(pages.map(\.count)) (bound \(bound))")
                    if whole.count > 2 * bound { #expect(pages.count > 1, "a scan of \(whole.count) rows in pages") }
                }
            }
        }
    }

    @Test("an answer that is not a page (from a node that predates pages) is the whole scan")
    func wholeAnswerIsTheLastPage() throws {
        var encoder = RowBatchCodec.Encoder()
        encoder.add([Row(tags: [SeriesTag("host", "a")], timestamp: 5, fields: ["v": .float(1)])])
        let answer = try VnodeQuery.page(from: encoder.finish())
        #expect(answer.rows.map(\.timestamp) == [5])
        #expect(answer.next == nil)
    }
}
