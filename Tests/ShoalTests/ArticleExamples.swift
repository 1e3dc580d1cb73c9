import Foundation
import Testing

/// Expects the document at `article` (below the package root) to show the
/// lines of `file` between `// example:begin` and `// example:end`
/// verbatim, as a Swift code block.
func expectArticleShowsExample(of file: String, article: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let source = try String(contentsOf: URL(fileURLWithPath: file), encoding: .utf8)
    let text = try String(contentsOf: packageRoot.appendingPathComponent(article), encoding: .utf8)
    let example = try #require(
        source.components(separatedBy: "// example:begin\n").last?.components(separatedBy: "// example:end").first,
        sourceLocation: sourceLocation
    )
    #expect(text.contains("```swift\n" + example + "```"), "\(article) shows the example verbatim", sourceLocation: sourceLocation)
}

/// The README's first example is `Examples/QuickStart/QuickStart.swift`,
/// which the package builds: a user who copies it gets code that compiles.
@Test func theReadmeShowsTheQuickStartThatBuilds() throws {
    let source = try String(contentsOf: packageRoot.appendingPathComponent("Examples/QuickStart/QuickStart.swift"), encoding: .utf8)
    let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
    let firstBlock = readme.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "```").first
    #expect(firstBlock == source, "the README's first Swift block is the quick start, verbatim")
}
