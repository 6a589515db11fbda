using Microsoft.Win32.SafeHandles;

namespace WebConsole.Infrastructure.Text;

/// <summary>Owns a <c>UBreakIterator*</c>; closing it calls <c>ubrk_close</c> exactly once.</summary>
internal sealed class BreakIteratorHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly IcuLibrary _library;

    internal BreakIteratorHandle(IcuLibrary library, nint iterator)
        : base(ownsHandle: true)
    {
        _library = library;
        SetHandle(iterator);
    }

    protected override bool ReleaseHandle()
    {
        _library.CloseBreakIterator(handle);
        return true;
    }
}
