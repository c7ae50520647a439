/// glibc's allocator tuned for training loops.
///
/// Every step allocates the same large activations (megabytes each) and frees them.
/// By default glibc serves such blocks with fresh `mmap`s and returns them on free, so
/// every step pays a page fault per 4 KiB page. Raising the mmap and trim thresholds
/// keeps freed blocks in the heap for the next step.
public enum AllocatorTuning {
    public static func reuseLargeBlocks() {
        #if os(Linux)
        // From <malloc.h>, which Swift's Glibc module does not export.
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3
        _ = glibcMallopt(mmapThreshold, 1 << 30)
        _ = glibcMallopt(trimThreshold, 1 << 30)
        #endif
    }

    /// Gives freed heap pages back to the system. With the thresholds above, memory a
    /// one-off phase freed (a model file's bytes once its weights are decoded) would stay
    /// resident for the whole run; after loading a model it is returned.
    public static func returnFreedMemory() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if os(Linux)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
