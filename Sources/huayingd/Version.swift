import ControlProtocol

/// The daemon's version, shown by `huayingd --version` and `huaying status`.
enum HuayingVersion {
    static let current = ReleaseVersion.current
}
