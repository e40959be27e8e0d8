/// mvm's version, for `--version` and the fingerprint of every report.
public let mvmVersion = "0.1.0"
