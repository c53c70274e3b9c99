namespace PleoKeys.Web;

/// <summary>Writes the secrets the server keeps outside the database (file mode 0600 in a 0700 folder).</summary>
public static class SecretFiles
{
    /// <summary>
    /// Writes <paramref name="content"/> beside <paramref name="path"/> and moves it into place, so no reader sees
    /// half a file. Without <paramref name="overwrite"/>, two instances starting together on one folder both end
    /// up with whichever file got there first.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<byte> content, bool overwrite)
    {
        var folder = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var temporary = Path.Combine(folder, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var write = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            write.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, write))
        {
            file.Write(content);
        }

        try
        {
            File.Move(temporary, path, overwrite);
        }
        catch (IOException) when (!overwrite && File.Exists(path))
        {
            File.Delete(temporary);
        }
    }
}
