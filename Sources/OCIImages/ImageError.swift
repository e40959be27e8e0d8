import MVMCore

/// Why an OCI image cannot be measured. Each description is one line that
/// says what is wrong with the image and what to do.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case notFound(path: String)
    /// Neither a layout directory nor an archive skopeo can read.
    case notAnImage(path: String, detail: String)
    /// Several images and no tag chosen.
    case ambiguous(path: String, tags: [String], untagged: Int)
    case noSuchTag(path: String, tag: String, tags: [String])
    case otherPlatform(image: String, platform: String, host: String)
    case noCommand(image: String)
    case commandMissing(image: String, command: String, searched: [String])
    /// A blob or document of the layout that is missing or unreadable.
    case damaged(image: String, problem: String)
    /// A tool (umoci, skopeo, cpio) failed or is missing.
    case tool(name: String, problem: String, advice: String)
    case system(String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "image \(path) does not exist; give an OCI image layout directory or a `docker save` archive"
        case .notAnImage(let path, let detail):
            return
                "\(path) is not an OCI image layout (a directory with oci-layout and index.json) nor a `docker save` archive (\(detail)); export the image with `skopeo copy` or `docker save`"
        case .ambiguous(let path, let tags, let untagged):
            let names = tags.isEmpty ? "" : " (tags: \(tags.joined(separator: ", ")))"
            let extra = untagged > 0 ? " and \(untagged) untagged" : ""
            return
                "\(path) holds \(tags.count + untagged) images\(names)\(extra); choose one with --image \(path):TAG"
        case .noSuchTag(let path, let tag, let tags):
            let known = tags.isEmpty ? "it has no tagged image" : "its tags: \(tags.joined(separator: ", "))"
            return "\(path) has no image tagged \(tag); \(known)"
        case .otherPlatform(let image, let platform, let host):
            return
                "image \(image) is built for \(platform), and this host runs \(host); give an image built for \(host) (docker build --platform \(host))"
        case .noCommand(let image):
            return
                "image \(image) has neither an entrypoint nor a cmd, so there is nothing to run; set one (umoci config --config.cmd, or CMD in its Dockerfile)"
        case .commandMissing(let image, let command, let searched):
            let place = searched.isEmpty ? "" : " (searched \(searched.joined(separator: ":")))"
            return
                "image \(image) runs \(command), which is not an executable file in the image\(place); fix the image's entrypoint or cmd"
        case .damaged(let image, let problem):
            return "image \(image) is damaged: \(problem); export it again"
        case .tool(let name, let problem, let advice):
            return "\(name) \(problem); \(advice)"
        case .system(let problem):
            return problem
        }
    }
}
