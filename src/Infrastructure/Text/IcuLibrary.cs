using System.Globalization;
using System.Runtime.InteropServices;

namespace WebConsole.Infrastructure.Text;

/// <summary>
/// The system ICU's break-iterator C API, found at run time. ICU4N is not available, and ICU's C symbols carry the
/// major version as a suffix (<c>ubrk_open_72</c>) unless ICU was built without renaming, so neither the library
/// name nor the entry points can be fixed at compile time: this probes for them the way .NET's own globalization
/// shim does and keeps unmanaged function pointers to the exports.
/// </summary>
/// <remarks>
/// Thread-safe: it holds only immutable function pointers; the iterators it opens are not thread-safe. A loaded
/// library is never unloaded, since the function pointers must stay valid for the life of the process.
/// </remarks>
public sealed unsafe class IcuLibrary
{
    /// <summary>Environment variable naming the ICU version to load (<c>72</c> or <c>72.1</c>), checked first.</summary>
    public const string VersionOverrideVariable = "WEBCONSOLE_ICU_VERSION";

    // .NET's own override: honouring it keeps segmentation on the same ICU as string comparison and casing.
    private const string DotNetVersionOverrideVariable = "CLR_ICU_VERSION_OVERRIDE";
    private const int MaxProbedMajorVersion = 100;
    private const int MinProbedMajorVersion = 50;
    private const int MaxLocaleLength = 156; // ULOC_FULLNAME_CAPACITY - 1

    private static readonly Lazy<IcuLibrary> SharedInstance = new(() => Load(), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly delegate* unmanaged<int, byte*, char*, int, int*, nint> _open;
    private readonly delegate* unmanaged<nint, char*, int, int*, void> _setText;
    private readonly delegate* unmanaged<nint, int> _first;
    private readonly delegate* unmanaged<nint, int> _next;
    private readonly delegate* unmanaged<nint, int> _getRuleStatus;
    private readonly delegate* unmanaged<nint, void> _close;
    private readonly delegate* unmanaged<int, byte*> _errorName;

    private IcuLibrary(nint library, string libraryName, string suffix)
    {
        LibraryName = libraryName;
        SymbolSuffix = suffix;
        _open = (delegate* unmanaged<int, byte*, char*, int, int*, nint>)Export(library, "ubrk_open", suffix);
        _setText = (delegate* unmanaged<nint, char*, int, int*, void>)Export(library, "ubrk_setText", suffix);
        _first = (delegate* unmanaged<nint, int>)Export(library, "ubrk_first", suffix);
        _next = (delegate* unmanaged<nint, int>)Export(library, "ubrk_next", suffix);
        _getRuleStatus = (delegate* unmanaged<nint, int>)Export(library, "ubrk_getRuleStatus", suffix);
        _close = (delegate* unmanaged<nint, void>)Export(library, "ubrk_close", suffix);
        _errorName = (delegate* unmanaged<int, byte*>)Export(library, "u_errorName", suffix);
        var getVersion = (delegate* unmanaged<byte*, void>)Export(library, "u_getVersion", suffix);

        // UVersionInfo is uint8_t[4]: major, minor, milli, micro.
        var version = stackalloc byte[4];
        getVersion(version);
        Version = new Version(version[0], version[1], version[2], version[3]);
    }

    /// <summary>The process-wide ICU, loaded on first use.</summary>
    /// <exception cref="DllNotFoundException">No usable ICU library was found; the message lists what was tried.</exception>
    public static IcuLibrary Shared => SharedInstance.Value;

    /// <summary>The library file that was loaded, for example <c>libicuuc.so.72</c>.</summary>
    public string LibraryName { get; }

    /// <summary>The suffix of the exported symbols, <c>_72</c>, or empty for an ICU built without renaming.</summary>
    public string SymbolSuffix { get; }

    /// <summary>ICU's own version (<c>u_getVersion</c>), for example 72.1.0.0.</summary>
    public Version Version { get; }

    /// <summary>
    /// Finds and loads ICU: the version named by <see cref="VersionOverrideVariable"/> or .NET's
    /// <c>CLR_ICU_VERSION_OVERRIDE</c> if set (and only that), otherwise the newest <c>libicuuc.so.N</c> for N from
    /// 100 down to 50, then the unversioned names (<c>libicuuc.so</c>, <c>libicucore.dylib</c>, <c>icu.dll</c>, ...).
    /// </summary>
    /// <exception cref="DllNotFoundException">No candidate loaded with the break-iterator exports.</exception>
    public static IcuLibrary Load()
    {
        if (Environment.GetEnvironmentVariable(VersionOverrideVariable) is { Length: > 0 } ours)
        {
            return Load(VersionOverrideVariable, ours);
        }

        return Environment.GetEnvironmentVariable(DotNetVersionOverrideVariable) is { Length: > 0 } dotnet
            ? Load(DotNetVersionOverrideVariable, dotnet)
            : Load(null, null);
    }

    /// <summary>Loads ICU as <see cref="Load()"/> does, with the override passed in rather than read from the environment.</summary>
    internal static IcuLibrary Load(string? overrideVariable, string? overrideValue)
    {
        var tried = new List<string>();
        foreach (var (name, major) in Candidates(overrideValue))
        {
            if (!NativeLibrary.TryLoad(name, out var library))
            {
                tried.Add(name);
                continue;
            }

            if (FindSuffix(library, major) is { } suffix)
            {
                return new IcuLibrary(library, name, suffix);
            }

            tried.Add($"{name} (loaded, but no ubrk_open or ubrk_open_N export)");
            NativeLibrary.Free(library);
        }

        var cause = overrideValue is null
            ? string.Empty
            : $" {overrideVariable}={overrideValue} restricts the search to that version.";
        throw new DllNotFoundException(
            $"ICU was not found, so text cannot be split into sentences and words. Tried: {string.Join(", ", tried)}.{cause} " +
            "Install the system ICU package (Debian: libicu72, Alpine: icu-libs) or set " +
            $"{VersionOverrideVariable} to the installed major version.");
    }

    internal BreakIteratorHandle OpenBreakIterator(BreakIteratorKind kind, string? locale)
    {
        // Null means ICU's root rules rather than the process default locale, so every server splits alike.
        locale ??= string.Empty;
        if (locale.Length > MaxLocaleLength)
        {
            throw new ArgumentException($"Locale '{locale}' is longer than {MaxLocaleLength} characters.", nameof(locale));
        }

        var localeId = stackalloc byte[locale.Length + 1];
        for (var i = 0; i < locale.Length; i++)
        {
            var c = locale[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '@' or '=' or ';' or '.'))
            {
                throw new ArgumentException($"Locale '{locale}' is not an ICU or BCP 47 locale identifier.", nameof(locale));
            }

            // ICU locale IDs separate subtags with '_'; accepting BCP 47's '-' lets callers pass CultureInfo names.
            localeId[i] = (byte)(c == '-' ? '_' : c);
        }

        localeId[locale.Length] = 0;
        var status = 0;
        var iterator = _open((int)kind, localeId, null, 0, &status);
        if (status > 0)
        {
            if (iterator != 0)
            {
                _close(iterator);
            }

            throw Failure("ubrk_open", status);
        }

        return new BreakIteratorHandle(this, iterator);
    }

    /// <summary>Points the iterator at <paramref name="text"/>; ICU keeps the pointer, so it must stay pinned while the iterator is used.</summary>
    internal void SetText(BreakIteratorHandle iterator, char* text, int length)
    {
        var status = 0;
        _setText(iterator.DangerousGetHandle(), text, length, &status);
        if (status > 0)
        {
            throw Failure("ubrk_setText", status);
        }
    }

    internal int First(BreakIteratorHandle iterator) => _first(iterator.DangerousGetHandle());

    internal int Next(BreakIteratorHandle iterator) => _next(iterator.DangerousGetHandle());

    internal int GetRuleStatus(BreakIteratorHandle iterator) => _getRuleStatus(iterator.DangerousGetHandle());

    internal void CloseBreakIterator(nint iterator) => _close(iterator);

    internal string GetErrorName(int errorCode) =>
        Marshal.PtrToStringUTF8((nint)_errorName(errorCode)) ?? errorCode.ToString(CultureInfo.InvariantCulture);

    private IcuException Failure(string operation, int status) => new(operation, status, GetErrorName(status));

    private static IEnumerable<(string Name, int? Major)> Candidates(string? versionOverride)
    {
        if (versionOverride is not null)
        {
            // "72" or "72.1": the file is libicuuc.so.72 (or .72.1); the symbols carry the major version only.
            var majorText = versionOverride.Split('.')[0];
            if (!int.TryParse(majorText, NumberStyles.None, CultureInfo.InvariantCulture, out var major))
            {
                throw new DllNotFoundException(
                    $"ICU version override '{versionOverride}' is not a version number such as 72 or 72.1.");
            }

            foreach (var name in VersionedNames(versionOverride))
            {
                yield return (name, major);
            }

            if (versionOverride != majorText)
            {
                foreach (var name in VersionedNames(majorText))
                {
                    yield return (name, major);
                }
            }

            yield break;
        }

        for (var major = MaxProbedMajorVersion; major >= MinProbedMajorVersion; major--)
        {
            foreach (var name in VersionedNames(major.ToString(CultureInfo.InvariantCulture)))
            {
                yield return (name, major);
            }
        }

        // Unversioned names: a development symlink, macOS's system ICU, Windows 10+'s icu.dll (unsuffixed exports).
        string[] unversioned = OperatingSystem.IsWindows()
            ? ["icu.dll", "icuuc.dll"]
            : OperatingSystem.IsMacOS() ? ["libicucore.dylib", "libicuuc.dylib"] : ["libicuuc.so"];
        foreach (var name in unversioned)
        {
            yield return (name, null);
        }
    }

    private static IEnumerable<string> VersionedNames(string version)
    {
        if (OperatingSystem.IsWindows())
        {
            yield return $"icuuc{version.Split('.')[0]}.dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return $"libicuuc.{version}.dylib";
        }
        else
        {
            yield return $"libicuuc.so.{version}";
        }
    }

    private static string? FindSuffix(nint library, int? major)
    {
        if (major is { } known)
        {
            return HasExport(library, $"_{known}") ? $"_{known}"
                : HasExport(library, string.Empty) ? string.Empty
                : null;
        }

        if (HasExport(library, string.Empty))
        {
            return string.Empty;
        }

        // An unversioned file name can still hold renamed symbols (libicuuc.so -> libicuuc.so.72.1).
        for (var candidate = MaxProbedMajorVersion; candidate >= MinProbedMajorVersion; candidate--)
        {
            var suffix = $"_{candidate.ToString(CultureInfo.InvariantCulture)}";
            if (HasExport(library, suffix))
            {
                return suffix;
            }
        }

        return null;
    }

    private static bool HasExport(nint library, string suffix) =>
        NativeLibrary.TryGetExport(library, "ubrk_open" + suffix, out _);

    private static nint Export(nint library, string name, string suffix)
    {
        if (NativeLibrary.TryGetExport(library, name + suffix, out var address))
        {
            return address;
        }

        throw new EntryPointNotFoundException($"ICU export '{name + suffix}' is missing from the loaded ICU library.");
    }
}

/// <summary><c>UBreakIteratorType</c> values used here.</summary>
internal enum BreakIteratorKind
{
    Word = 1,
    Sentence = 3,
}
