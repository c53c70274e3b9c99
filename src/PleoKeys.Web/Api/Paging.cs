using System.Globalization;

namespace PleoKeys.Web.Api;

public sealed record PageInfo(int Offset, int Limit, int Total);

public sealed record Page<T>(IReadOnlyList<T> Data, PageInfo Pagination);

/// <summary>offset and limit (default 50, at most 100), read as text so a bad value gets a clear 400.</summary>
public readonly record struct Paging(int Offset, int Limit)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public static (Paging Paging, IResult? Problem) Parse(string? offset, string? limit)
    {
        var o = 0;
        var l = DefaultLimit;
        if (!string.IsNullOrEmpty(offset) && (!int.TryParse(offset, NumberStyles.None, CultureInfo.InvariantCulture, out o) || o < 0))
        {
            return (default, ApiProblems.BadRequest("Invalid offset", "offset must be a whole number, 0 or more."));
        }

        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out l) || l < 1 || l > MaxLimit))
        {
            return (default, ApiProblems.BadRequest("Invalid limit", $"limit must be a whole number from 1 to {MaxLimit}."));
        }

        return (new Paging(o, l), null);
    }
}
