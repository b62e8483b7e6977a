import HeapDiffKit

extension SnapshotSeries where Member == SnapshotFile {
    /// The series `trend` and `report` take from their arguments, with their
    /// errors worded for `analysis` ("a trend", "a report").
    static func loadInputs(_ inputs: [String], pid: Int32?, analysis: String) throws -> SnapshotSeries {
        do {
            return try load(inputs: inputs, pid: pid)
        } catch let SeriesError.mixedProcesses(path, pid, firstPath, firstPID) {
            throw CommandError(message: "\(path) is of process \(pid), \(firstPath) of process \(firstPID); "
                + "\(analysis) follows one process")
        } catch let failure as SeriesError {
            throw CommandError(message: failure.description)
        }
    }
}
