"""Risk collaboration, part 1 (contract section 9): the library of sensitive-phrase categories
and the checker that reads sales scripts and call transcripts against it and the live parameters.

- `library`: the 23 categories: patterns (zh and en), severity, suggested rewrite, parameter.
- `checker`: pure functions: text in, findings out (offsets into the original text).
"""
