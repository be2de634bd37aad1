/// A min-heap of simulator events ordered by virtual time, then by insertion order, so that runs replay
/// exactly.
public struct EventQueue<Payload> {
    private struct Item {
        var time: UInt64
        var sequence: UInt64
        var payload: Payload
        func precedes(_ other: Item) -> Bool {
            time != other.time ? time < other.time : sequence < other.sequence
        }
    }

    private var heap: [Item] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    /// The time of the next event, if any.
    public var nextTime: UInt64? { heap.first?.time }
    public var count: Int { heap.count }

    public mutating func push(_ payload: Payload, at time: UInt64) {
        heap.append(Item(time: time, sequence: nextSequence, payload: payload))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !heap[child].precedes(heap[parent]) { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    public mutating func pop() -> (time: UInt64, payload: Payload)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let item = heap.removeLast()
        var parent = 0
        while true {
            let left = parent * 2 + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
            if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (item.time, item.payload)
    }
}
