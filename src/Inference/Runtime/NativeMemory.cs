using System.Runtime.InteropServices;

namespace WebConsole.Inference.Runtime;

/// <summary>
/// Gives freed native memory back to the operating system. ONNX Runtime allocates model weights and arenas with the C
/// allocator; when a session closes (an allocation scales down, an endpoint is deleted), glibc keeps the freed pages in
/// its per-thread arenas, so a server that opens and closes sessions all day holds on to memory it no longer uses.
/// <see cref="Trim"/> asks glibc to release them; elsewhere it does nothing.
/// </summary>
public static partial class NativeMemory
{
    private static int _unavailable;

    /// <summary>Releases free native heap memory to the operating system (glibc's <c>malloc_trim</c>); a no-op off glibc.</summary>
    /// <returns>Whether memory was released.</returns>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _unavailable) != 0)
        {
            return false;
        }

        try
        {
            return MallocTrim(0) != 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries have no malloc_trim: nothing to do there.
            Volatile.Write(ref _unavailable, 1);
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
