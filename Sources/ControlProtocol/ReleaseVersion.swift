/// The release both programs are built from: `huayingd --version`, `huaying --version`, and
/// the `daemon_version` of `status` (the CLI warns when the daemon it talks to differs).
public enum ReleaseVersion {
    public static let current = "0.1.0"
}
