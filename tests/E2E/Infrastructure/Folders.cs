namespace WebConsole.E2E.Infrastructure;

/// <summary>File-system helpers for tests that break copies of the shared generated models.</summary>
internal static class Folders
{
    /// <summary>Copies <paramref name="from"/> and everything under it to <paramref name="to"/>.</summary>
    public static void Copy(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
