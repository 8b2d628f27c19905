/// Which steps each step waits for, directly or through others, answered for every step from
/// one pass over the `after:` links (and the steps a time reads), instead of a walk per asking
/// step: a file of n steps, each waiting for all earlier ones, took n walks of n²/2 links.
///
/// Steps that wait for each other in a circle (a finding of its own) form one strongly
/// connected component; Tarjan's algorithm, with an explicit stack, closes each component after
/// every component it reaches, so the set of steps a component reaches (one bit per step) is
/// the union of the sets of the components it links to. Links are taken from the latest
/// component down: a step already in the set brought its whole set along, so it is skipped,
/// and a step that waits for all earlier ones costs one union.
struct StepReachability {
    private var index: [String: Int] = [:]
    /// Step → its component.
    private var component: [Int] = []
    /// Component → the steps reachable from it through one link or more (its own members when
    /// they form a circle).
    private var reach: [[UInt64]] = []

    init(_ byID: [String: StepDefinition]) {
        let ids = byID.keys.sorted()
        for (position, id) in ids.enumerated() { index[id] = position }
        let count = ids.count
        let words = (count + 63) / 64
        let links: [[Int]] = ids.map { id in byID[id]!.dependencies.compactMap { index[$0.value] } }
        component = [Int](repeating: -1, count: count)
        var order = [Int](repeating: -1, count: count)
        var low = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var visited = 0
        for root in 0..<count where order[root] < 0 {
            var frames: [(step: Int, next: Int)] = [(root, 0)]
            order[root] = visited
            low[root] = visited
            visited += 1
            stack.append(root)
            onStack[root] = true
            while let (step, next) = frames.last {
                if next < links[step].count {
                    frames[frames.count - 1].next += 1
                    let target = links[step][next]
                    if order[target] < 0 {
                        order[target] = visited
                        low[target] = visited
                        visited += 1
                        stack.append(target)
                        onStack[target] = true
                        frames.append((target, 0))
                    } else if onStack[target] {
                        low[step] = min(low[step], order[target])
                    }
                    continue
                }
                frames.removeLast()
                if let parent = frames.last?.step { low[parent] = min(low[parent], low[step]) }
                guard low[step] == order[step] else { continue }
                // `step` roots a component: take its members off the stack and fill in its set.
                let id = reach.count
                var members: [Int] = []
                while let member = stack.popLast() {
                    onStack[member] = false
                    component[member] = id
                    members.append(member)
                    if member == step { break }
                }
                var targets = members.flatMap { links[$0] }
                targets.sort { component[$0] > component[$1] }
                var bits = [UInt64](repeating: 0, count: words)
                for target in targets where bits[target >> 6] & (1 << UInt64(target & 63)) == 0 {
                    let other = component[target]
                    if other != id {
                        let reached = reach[other]
                        for word in 0..<words { bits[word] |= reached[word] }
                    }
                    bits[target >> 6] |= 1 << UInt64(target & 63)
                }
                reach.append(bits)
            }
        }
    }

    /// Whether step `from` waits for step `id`, directly or through others.
    func waits(_ from: String, for id: String) -> Bool {
        guard let step = index[from], let target = index[id] else { return false }
        return reach[component[step]][target >> 6] & (1 << UInt64(target & 63)) != 0
    }
}
