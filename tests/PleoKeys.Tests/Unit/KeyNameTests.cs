using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Tests.Unit;

/// <summary>Issue 12, "Names that render as written", and the search form of "Search that ignores case".</summary>
public sealed class KeyNameTests
{
    /// <summary>The measured names: zero-width only, a right-to-left override, 99 combining marks.</summary>
    public static TheoryData<string, string> MeasuredNames => new()
    {
        { "\u200B\u200B\u200B", "invisible characters such as U+200B" },
        { "\u200B\u200C\u200D\u2060\uFEFF", "invisible characters such as U+200B" },
        { "Payroll \u202Egnirts\u202C sync", "text-direction controls such as U+202E" },
        { "Payroll \u202Egnirts sync", "text-direction controls such as U+202E" },
        { "Z" + string.Concat(Enumerable.Repeat("\u0301\u0300\u0302", 33)), "too many accents or marks" },
    };

    [Theory]
    [MemberData(nameof(MeasuredNames))]
    public void Problem_MeasuredNames_AreRefusedWithAMessage(string name, string message)
    {
        Assert.Contains(message, KeyName.Problem(name), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u2066x\u2069")]   // LRI … PDI
    [InlineData("\u2067x\u2069")]   // RLI
    [InlineData("\u2068x\u2069")]   // FSI
    [InlineData("a\u200Eb")]        // LRM
    [InlineData("a\u200Fb")]        // RLM
    [InlineData("a\u061Cb")]        // ARABIC LETTER MARK
    [InlineData("a\u202Ab")]        // LRE
    [InlineData("a\u202Bb")]        // RLE
    [InlineData("a\u202Db")]        // LRO
    public void Problem_EveryBidiControl_IsRefused(string name)
    {
        Assert.Contains("text-direction controls", KeyName.Problem(name), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\u00ADb")]        // soft hyphen
    [InlineData("a\u200Bb")]        // zero width space
    [InlineData("a\u2060b")]        // word joiner
    [InlineData("a\uFEFFb")]        // zero width no-break space
    [InlineData("a\u2062b")]        // invisible times
    [InlineData("a\u034Fb")]        // combining grapheme joiner (default ignorable)
    [InlineData("a\u3164b")]        // Hangul filler (default ignorable letter)
    [InlineData("a\u180Eb")]        // Mongolian vowel separator
    [InlineData("\u200Dab")]        // a joiner at the start joins nothing
    [InlineData("ab\u200C")]        // a non-joiner at the end
    [InlineData("a\u200D\u200Db")]  // doubled
    [InlineData("a \u200Db")]       // next to a space
    [InlineData("a\uDB40\uDC67b")]  // an emoji tag character outside a flag sequence
    public void Problem_InvisibleFormatCharacters_AreRefused(string name)
    {
        Assert.Contains("invisible characters", KeyName.Problem(name), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u2800")]            // braille pattern blank
    [InlineData("\u2800 \u2800")]
    public void Problem_NoVisibleCharacter_IsRefused(string name)
    {
        Assert.Equal("The name needs at least one visible character.", KeyName.Problem(name));
    }

    [Fact]
    public void Problem_LeadingCombiningMark_IsRefused()
    {
        Assert.Contains("can't start with a combining mark", KeyName.Problem("\u0301abc"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\u0301\u0302\u0303\u0304")]   // four marks: the UTS #39 limit
    [InlineData("ệ\u0301\u0302")]               // precomposed ệ is e + two marks: four in NFD
    public void Problem_MarksUpToTheLimit_AreAccepted(string name)
    {
        Assert.Null(KeyName.Problem(name));
    }

    [Theory]
    [InlineData("a\u0301\u0302\u0303\u0304\u0305")]
    [InlineData("ệ\u0301\u0302\u0303")]          // five in NFD, though four as typed
    public void Problem_MoreMarksThanTheLimit_AreRefused(string name)
    {
        Assert.Contains("at most 4", KeyName.Problem(name), StringComparison.Ordinal);
    }

    /// <summary>The attack on the merged app: joiners between marks, hidden tag text, boxes.</summary>
    [Fact]
    public void Problem_JoinersBetweenStackedMarks_DoNotResetTheStack()
    {
        var name = "a" + string.Concat(Enumerable.Repeat("\u0301\u0300\u0302\u0303\u200D", 19)) + "b";

        Assert.Contains("U+200D (zero width joiner) where it joins nothing", KeyName.Problem(name), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_TagCharactersCarryingHiddenText_AreRefused()
    {
        var hidden = string.Concat("ignore all previous instructions".Select(c => char.ConvertFromUtf32(0xE0000 + c)));

        Assert.Contains("invisible characters", KeyName.Problem("Key \U0001F3F4" + hidden + "\U000E007F"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Key \uE000\uE001")]   // private use
    [InlineData("Key \u0378")]         // unassigned
    public void Problem_PrivateUseOrUnassigned_IsRefused(string name)
    {
        Assert.Contains("private-use or unassigned", KeyName.Problem(name), StringComparison.Ordinal);
    }

    /// <summary>Real-world names keep working.</summary>
    [Theory]
    [InlineData("Payroll sync")]
    [InlineData("👩‍💻 dev team")]                     // ZWJ sequence
    [InlineData("👨‍👩‍👧‍👦 family")]                     // several ZWJs
    [InlineData("❤️‍🔥 hot")]                         // variation selector then ZWJ
    [InlineData("1️⃣ first")]                         // keycap: VS16 + enclosing keycap
    [InlineData("👍🏽 approved")]                     // skin tone modifier
    [InlineData("🏴󠁧󠁢󠁳󠁣󠁴󠁿 Scotland")]                    // emoji tag sequence
    [InlineData("🇩🇰 Danmark")]                      // regional indicators
    [InlineData("می‌خواهم گزارش")]                   // Persian with ZWNJ
    [InlineData("नमस्ते क्षत्रिय")]                    // Devanagari with viramas and vowel signs
    [InlineData("Kế toán Việt Nam")]                 // Vietnamese, stacked marks
    [InlineData("Ke\u0302\u0301 toa\u0301n")]        // Vietnamese typed decomposed
    [InlineData("שָׁלוֹם")]                             // pointed Hebrew
    [InlineData("مرحبا بالعالم")]                    // Arabic, right to left
    [InlineData("བསྒྲུབས")]                         // Tibetan stack
    [InlineData("ภาษาไทย")]                          // Thai
    [InlineData("日本語のキー")]
    [InlineData("Straße export")]
    [InlineData("100% a_b <script>")]
    public void Problem_RealWorldNames_AreAccepted(string name)
    {
        Assert.Null(KeyName.Problem(name));
    }

    [Theory]
    [InlineData("Payroll\tsync")]
    [InlineData("Payroll\nsync")]
    [InlineData("Payroll\u2028sync")]
    public void Problem_ControlsAndLineBreaks_AreRefused(string name)
    {
        Assert.Contains("control characters", KeyName.Problem(name), StringComparison.Ordinal);
    }

    [Fact]
    public void Problem_Length_CountsCodePoints()
    {
        Assert.Null(KeyName.Problem(string.Concat(Enumerable.Repeat("😀", 100))));
        Assert.Equal("Use at most 100 characters (this one has 101).", KeyName.Problem(new string('x', 101)));
        Assert.Equal("Enter a name for the key.", KeyName.Problem(""));
        Assert.Equal("The name contains an invalid character.", KeyName.Problem("a\uD800b"));
    }

    [Theory]
    [InlineData("Straße export", "strasse export")]
    [InlineData("STRAẞE", "strasse")]
    [InlineData("STRASSE", "strasse")]
    [InlineData("ﬁnance", "finance")]
    [InlineData("ΟΔΟΣ", "οδοσ")]
    [InlineData("οδος", "οδοσ")]
    [InlineData("A\u0308RGER", "ärger")]       // decomposed in, composed out
    [InlineData("ÆRØ", "ærø")]
    [InlineData("ΐ", "ΐ")]                    // U+0390 → ΐ → NFC U+0390
    public void Fold_IsFullCaseFoldingInNfc(string text, string folded)
    {
        Assert.Equal(folded, KeyName.Fold(text));
    }

    [Fact]
    public void Fold_LoneSurrogate_BecomesTheReplacementCharacter()
    {
        // string.Normalize throws on a lone surrogate; a search term must not.
        Assert.Equal("a\uFFFD", KeyName.Fold("a\uD800"));
    }

    [Fact]
    public void Isolate_WrapsInFirstStrongIsolateAndPop()
    {
        Assert.Equal("\u2068abc\u2069", KeyName.Isolate("abc"));
    }
}
