// swift-tools-version:6.0
// A Swift leak test to copy: see Tests/SessionStoreLeakTests.
//   heapdiff check -- swift test --package-path Examples/leak-tests/swift
import PackageDescription

let package = Package(
    name: "SessionStoreLeakTest",
    targets: [
        .target(name: "SessionStore"),
        .testTarget(name: "SessionStoreLeakTests", dependencies: ["SessionStore"]),
    ]
)
