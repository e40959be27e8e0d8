/// Quotes a word for a POSIX shell: single quotes, with each single quote
/// written as '\''. Any byte string survives, newlines included.
func shellQuoted(_ word: String) -> String {
    "'" + word.replacing("'", with: #"'\''"#) + "'"
}

/// The workload file that mvm's image init sources: the working directory,
/// the environment and the argv as quoted words.
func workloadScript(command: [String], environment: [String], workingDirectory: String) -> String {
    """
    # Written by mvm from the image's config: what /.mvm/init runs.
    mvm_workdir=\(shellQuoted(workingDirectory))
    mvm_environment=\(shellQuoted(environment.map(shellQuoted).joined(separator: " ")))
    set -- \(command.map(shellQuoted).joined(separator: " "))

    """
}
