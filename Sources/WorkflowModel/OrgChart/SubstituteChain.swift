/// Who stands in for whom during leave (请假/代理), followed hop by hop: the org chart's
/// `away:` and the daemon's `huaying away` records both go through here.
public enum SubstituteChain {
    /// How many substitutes are followed (A away → B, B away → C …).
    public static let hops = 3

    /// The circle `user` → `substitute` → … → `user` that naming `substitute` would close on one
    /// day, following `substituteOf` (who stands in for a person that day) up to ``hops`` hops;
    /// nil when the chain ends with someone present.
    public static func circle(from user: String, to substitute: String,
                              substituteOf: (String) throws -> String?) rethrows -> [String]? {
        var path = [user, substitute]
        var next = try substituteOf(substitute)
        while let person = next {
            if person == user { return path + [user] }
            if path.contains(person) || path.count > hops + 1 { return nil }
            path.append(person)
            next = try substituteOf(person)
        }
        return nil
    }
}
