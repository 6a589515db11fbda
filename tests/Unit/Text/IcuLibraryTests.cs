using WebConsole.Infrastructure.Text;

namespace WebConsole.Unit.Text;

public sealed class IcuLibraryTests
{
    [Fact]
    public void The_system_icu_is_found_with_its_version_and_symbol_suffix()
    {
        var icu = IcuLibrary.Shared;

        Assert.InRange(icu.Version.Major, 50, 100);
        Assert.Contains("icu", icu.LibraryName, StringComparison.OrdinalIgnoreCase);
        Assert.True(icu.SymbolSuffix.Length == 0 || icu.SymbolSuffix == $"_{icu.Version.Major}",
            $"Unexpected suffix '{icu.SymbolSuffix}' for ICU {icu.Version}.");
        Assert.Equal(icu.Version, new IcuTextSegmenter(icu).IcuVersion);
    }

    [Fact]
    public void A_version_override_loads_that_version()
    {
        var major = IcuLibrary.Shared.Version.Major.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var icu = IcuLibrary.Load(IcuLibrary.VersionOverrideVariable, major);

        Assert.Equal(IcuLibrary.Shared.Version, icu.Version);
        Assert.Equal(["a", "b"], new IcuTextSegmenter(icu).SplitWords("a b").Select(w => w.GetText("a b")));
    }

    [Fact]
    public void A_missing_version_fails_naming_what_was_searched_and_the_override()
    {
        var error = Assert.Throws<DllNotFoundException>(() => IcuLibrary.Load(IcuLibrary.VersionOverrideVariable, "7"));

        Assert.Contains(OperatingSystem.IsLinux() ? "libicuuc.so.7" : "7", error.Message, StringComparison.Ordinal);
        Assert.Contains("WEBCONSOLE_ICU_VERSION=7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_override_that_is_not_a_version_is_rejected()
    {
        var error = Assert.Throws<DllNotFoundException>(() => IcuLibrary.Load(IcuLibrary.VersionOverrideVariable, "latest"));

        Assert.Contains("latest", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_icu_error_becomes_an_exception_with_its_name_and_number()
    {
        // UBreakIteratorType 99 does not exist, so ubrk_open answers U_ILLEGAL_ARGUMENT_ERROR.
        var error = Assert.Throws<IcuException>(() => IcuLibrary.Shared.OpenBreakIterator((BreakIteratorKind)99, null));

        Assert.Equal(1, error.ErrorCode);
        Assert.Equal("U_ILLEGAL_ARGUMENT_ERROR", error.ErrorName);
        Assert.Contains("ubrk_open", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disposing_an_iterator_closes_it_once()
    {
        var iterator = IcuLibrary.Shared.OpenBreakIterator(BreakIteratorKind.Word, "en");

        iterator.Dispose();
        iterator.Dispose();

        Assert.True(iterator.IsClosed);
    }
}
