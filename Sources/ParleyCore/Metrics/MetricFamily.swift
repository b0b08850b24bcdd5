import CoreMetrics
import Synchronization

/// A metric's handles by their label values, each made once: recording then costs one dictionary lookup instead
/// of a trip through the metrics factory (its locks, name checks and allocations) on every request. The label
/// values must come from bounded sets (``MetricName``), so the table stays small.
public final class MetricFamily<Handle: AnyObject & Sendable>: Sendable {
    // Reachable from inlined code, so each caller's module specializes `callAsFunction` for its handle type instead
    // of looking up the generic type's metadata at run time on every call.
    @usableFromInline let handles = Mutex<[[String]: Handle]>([:])
    @usableFromInline let make: @Sendable ([String]) -> Handle

    /// `make` builds the handle for the label values it is given, in the order the call sites pass them.
    public init(_ make: @escaping @Sendable ([String]) -> Handle) {
        self.make = make
    }

    @inlinable
    public func callAsFunction(_ values: String...) -> Handle {
        if let handle = handles.withLock({ $0[values] }) { return handle }
        let handle = make(values)
        return handles.withLock { table in
            if let existing = table[values] { return existing }
            table[values] = handle
            return handle
        }
    }
}

extension MetricFamily where Handle == CoreMetrics.Counter {
    /// A counter labelled by `labels`.
    public convenience init(counter name: String, labels: [String]) {
        self.init { values in Counter(label: name, dimensions: Array(zip(labels, values))) }
    }
}

extension MetricFamily where Handle == CoreMetrics.Timer {
    /// A duration histogram labelled by `labels`.
    public convenience init(timer name: String, labels: [String]) {
        self.init { values in Timer(label: name, dimensions: Array(zip(labels, values))) }
    }
}

extension MetricFamily where Handle == CoreMetrics.Recorder {
    /// A value histogram labelled by `labels`.
    public convenience init(histogram name: String, labels: [String]) {
        self.init { values in Recorder(label: name, dimensions: Array(zip(labels, values)), aggregate: true) }
    }
}

extension MetricFamily where Handle == CoreMetrics.Gauge {
    /// A gauge labelled by `labels`.
    public convenience init(gauge name: String, labels: [String]) {
        self.init { values in Gauge(label: name, dimensions: Array(zip(labels, values))) }
    }
}
