/// The version of this build, sent as `user-agent: Switchboard/<version>` and shown by `--version`.
public enum SwitchboardVersion {
    /// Semantic version.
    public static let current = "0.2.0"
}
