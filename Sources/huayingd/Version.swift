/// The daemon's version, shown by `huayingd --version` and `huaying status`.
enum HuayingVersion {
    static let current = "0.1.0"
}
