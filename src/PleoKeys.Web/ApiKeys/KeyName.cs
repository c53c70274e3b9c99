using System.Globalization;
using System.Text;
using ICU4N;
using ICU4N.Globalization;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// What a key name may be, how it is searched, and how it is shown inside the app's own sentences.
/// Pure: no ASP.NET or EF types, so the rules are unit-tested on their own.
/// </summary>
/// <remarks>
/// A name is free text in any script, but it must render as written: in its own row, with at least one
/// visible character, without turning the page's text around it. The limits:
/// <list type="bullet">
/// <item>At most <see cref="MaxLength"/> Unicode code points (an emoji is one; PostgreSQL's varchar counts the same way).</item>
/// <item>No control characters (Cc) and no line or paragraph separators (Zl, Zp).</item>
/// <item>No bidirectional formatting characters (UAX #9 §2, Table 2: ALM, LRM, RLM, LRE, RLE, PDF, LRO, RLO, LRI,
/// RLI, FSI, PDI). The page isolates every name (<c>&lt;bdi&gt;</c>), so a right-to-left name needs none of them.</item>
/// <item>No invisible format characters: nothing that is Default_Ignorable_Code_Point or general category Cf
/// (zero-width space, word joiner, soft hyphen, BOM, Hangul fillers, …), except what real text needs:
/// ZERO WIDTH JOINER in emoji sequences such as 👩‍💻 and ZERO WIDTH NON-JOINER in Persian and Indic text (both
/// only between two other characters), variation selectors (VS1–VS256, Mongolian FVS1–4), and emoji tag
/// characters inside a flag tag sequence such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿 (UTS #51 §2.8; 2 to 6 tag letters or digits, a CLDR subdivision code).</item>
/// <item>No private-use, unassigned or surrogate code points: they draw as empty boxes, or as whatever a font decides.</item>
/// <item>At most <see cref="MaxNonspacingMarks"/> nonspacing marks (Mn, Me) in a row after canonical decomposition:
/// the limit UTS #39 §5.4 suggests ("more than 4 nonspacing marks"), which Chromium also applies to domain names.
/// Vietnamese (two marks at most), Devanagari, Thai, pointed Hebrew and Tibetan stacks stay within it; stacked
/// "Zalgo" marks, which draw over the rows around them, do not. UAX #15's Stream-Safe Text Format (30
/// non-starters) is the outer bound any Unicode text keeps; a one-line name needs far less.</item>
/// <item>The name does not start with a combining mark (it would attach to the app's text before it), and it has
/// at least one visible character: something other than white space, marks and invisible characters.</item>
/// </list>
/// </remarks>
public static class KeyName
{
    /// <summary>The longest name, in Unicode code points.</summary>
    public const int MaxLength = 100;

    /// <summary>The longest run of nonspacing marks (Mn, Me) after NFD, from UTS #39 §5.4.</summary>
    public const int MaxNonspacingMarks = 4;

    private const int ZeroWidthNonJoiner = 0x200C;
    private const int ZeroWidthJoiner = 0x200D;
    private const int WavingBlackFlag = 0x1F3F4;
    private const int CancelTag = 0xE007F;

    /// <summary>
    /// Checks a name that has already been trimmed. Returns null when the name is acceptable, otherwise the
    /// message to show next to the Name field.
    /// </summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0)
        {
            return "Enter a name for the key.";
        }

        var runes = new List<Rune>(name.Length);
        for (var i = 0; i < name.Length;)
        {
            if (Rune.DecodeFromUtf16(name.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                return "The name contains an invalid character.";
            }

            runes.Add(rune);
            i += used;
        }

        if (runes.Count > MaxLength)
        {
            return $"Use at most {MaxLength} characters (this one has {runes.Count}).";
        }

        var visible = false;
        for (var i = 0; i < runes.Count; i++)
        {
            var rune = runes[i];
            var category = Rune.GetUnicodeCategory(rune);
            if (category is UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return "The name can't contain control characters such as tabs or line breaks.";
            }

            if (category is UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate)
            {
                // Drawn as an empty box or not at all, and what it means is up to whoever reads it.
                return $"The name can't contain private-use or unassigned characters such as {Describe(rune)}.";
            }

            if (IsBidiControl(rune.Value))
            {
                return $"The name can't contain text-direction controls such as {Describe(rune)}: each name is shown in its own direction already.";
            }

            if (IsInvisible(rune, category) && !IsAllowedInvisible(runes, i))
            {
                return $"The name can't contain invisible characters such as {Describe(rune)}.";
            }

            visible |= IsVisible(rune, category);
        }

        if (IsMark(Rune.GetUnicodeCategory(runes[0])))
        {
            return "The name can't start with a combining mark such as an accent: put it after the letter it belongs to.";
        }

        if (!visible)
        {
            return "The name needs at least one visible character.";
        }

        var run = 0;
        foreach (var rune in name.Normalize(NormalizationForm.FormD).EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category == UnicodeCategory.Format)
            {
                // An invisible joiner between marks neither ends nor starts a stack.
                continue;
            }

            run = category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark ? run + 1 : 0;
            if (run > MaxNonspacingMarks)
            {
                return $"The name stacks too many accents or marks on one letter (at most {MaxNonspacingMarks}).";
            }
        }

        return null;
    }

    /// <summary>
    /// The form the list's search compares: Unicode full case folding (CaseFolding.txt statuses C and F, as ICU
    /// implements it: ß, ẞ → ss; ﬁ → fi; final sigma ς → σ) applied between canonical decompositions, then
    /// composed (NFC), so that any two canonically equivalent, case-insensitively equal names have the same
    /// form (Unicode §3.13, D145 "canonical caseless match"). Stored in <c>ApiKey.NormalizedName</c> and applied
    /// to the search term, so SQLite and PostgreSQL compare the same ordinal strings.
    /// </summary>
    public static string Fold(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        // Normalize throws on a lone surrogate; a search term could hold one, so it becomes U+FFFD first.
        var wellFormed = text.Any(char.IsSurrogate) ? string.Concat(text.EnumerateRunes().Select(r => r.ToString())) : text;
        return UChar.FoldCase(wellFormed.Normalize(NormalizationForm.FormD), FoldCase.Default).Normalize(NormalizationForm.FormC);
    }

    /// <summary>
    /// The name between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE (UAX #9 §2.7), for plain text that holds a
    /// name inside the app's own sentence (status messages, the page title, audit details), where no
    /// <c>&lt;bdi&gt;</c> element can be used: whatever direction the name has stays inside it.
    /// </summary>
    public static string Isolate(string? name) => $"\u2068{name}\u2069";

    /// <summary>UAX #9 Table 2 plus the implicit marks: ALM, LRM, RLM, LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI.</summary>
    private static bool IsBidiControl(int c) =>
        c is 0x061C or 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);

    private static bool IsMark(UnicodeCategory category) =>
        category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool IsInvisible(Rune rune, UnicodeCategory category) =>
        category == UnicodeCategory.Format || UChar.HasBinaryProperty(rune.Value, UProperty.Default_Ignorable_Code_Point);

    private static bool IsVariationSelector(int c) =>
        c is (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0100 and <= 0xE01EF) or (>= 0x180B and <= 0x180D) or 0x180F;

    /// <summary>The invisible characters real text needs, where it needs them.</summary>
    private static bool IsAllowedInvisible(List<Rune> runes, int i)
    {
        var c = runes[i].Value;
        if (IsVariationSelector(c))
        {
            return i > 0;
        }

        if (c is ZeroWidthJoiner or ZeroWidthNonJoiner)
        {
            // Joins or separates two characters; alone, at an edge or doubled it only hides.
            // Joins or separates two characters; alone, at an edge, doubled or after a mark (where it only hides
            // more marks) it joins nothing. A variation selector before it is part of an emoji (❤️‍🔥).
            return i > 0 && i < runes.Count - 1 &&
                runes[i - 1].Value is not (ZeroWidthJoiner or ZeroWidthNonJoiner) && !Rune.IsWhiteSpace(runes[i - 1]) &&
                (IsVariationSelector(runes[i - 1].Value) || !IsMark(Rune.GetUnicodeCategory(runes[i - 1]))) &&
                runes[i + 1].Value is not (ZeroWidthJoiner or ZeroWidthNonJoiner) && !Rune.IsWhiteSpace(runes[i + 1]) &&
                !IsMark(Rune.GetUnicodeCategory(runes[i + 1]));
        }

        if (c is >= 0xE0020 and <= CancelTag)
        {
            // An emoji tag sequence: 🏴 followed by tag characters, ended by CANCEL TAG (UTS #51 §2.8).
            var start = i;
            while (start > 0 && runes[start - 1].Value is >= 0xE0020 and <= 0xE007E)
            {
                start--;
            }

            var end = i;
            while (end < runes.Count - 1 && runes[end].Value != CancelTag)
            {
                end++;
            }

            // A subdivision flag's tag spec is a region and subdivision code: 2 to 6 lowercase letters and digits
            // (CLDR; 🏴󠁧󠁢󠁥󠁮󠁧󠁿 is "gbeng"). Longer runs of tags only carry hidden text.
            var tags = runes.Skip(start).Take(end - start).ToList();
            return start > 0 && runes[start - 1].Value == WavingBlackFlag && runes[end].Value == CancelTag
                && tags.Count is >= 2 and <= 6 && tags.All(t => t.Value is (>= 0xE0061 and <= 0xE007A) or (>= 0xE0030 and <= 0xE0039));
        }

        return false;
    }

    /// <summary>Something that puts ink on the page: not white space, not a mark, not invisible, not BRAILLE PATTERN BLANK.</summary>
    private static bool IsVisible(Rune rune, UnicodeCategory category) =>
        !Rune.IsWhiteSpace(rune) && !IsMark(category) && !IsInvisible(rune, category) && rune.Value != 0x2800 &&
        category is not (UnicodeCategory.Control or UnicodeCategory.SpaceSeparator);

    private static string Describe(Rune rune) =>
        rune.Value switch
        {
            0x200B => "U+200B (zero width space)",
            0x200C => "U+200C (zero width non-joiner) where it joins nothing",
            0x200D => "U+200D (zero width joiner) where it joins nothing",
            0x202E => "U+202E (right-to-left override)",
            0x202D => "U+202D (left-to-right override)",
            0xFEFF => "U+FEFF (zero width no-break space)",
            0x00AD => "U+00AD (soft hyphen)",
            0x2060 => "U+2060 (word joiner)",
            _ => $"U+{rune.Value:X4}",
        };
}
