package io.convllava.coordinator.prefix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which kept cache a prompt continues from, and from how many of its positions. */
class PrefixIndexTest {
    private static long[] content(int length, long salt) {
        long[] c = new long[length];
        Arrays.setAll(c, i -> i * 31L + salt);
        return c;
    }

    @Test
    void aFollowUpContinuesFromTheWholeConversationSoFar() {
        PrefixIndex index = new PrefixIndex(4);
        long[] turn1 = content(216, 0); // a 200-position prompt as one chunk, then 16 answer positions row by row
        index.add("turn1", turn1, PrefillChunks.NONE.with(0, 200));
        long[] turn2 = Arrays.copyOf(turn1, 236);
        PrefixIndex.Match match = index.match(turn2);
        assertEquals("turn1", match.key());
        assertEquals(216, match.length());
        assertEquals(List.of(new PrefillChunks.Range(0, 200)), match.chunks().ranges());
        assertEquals("turn1", index.match(turn2).key(), "a kept cache stays for other sessions");
    }

    @Test
    void theSamePromptAgainIsNotContinuedFromInsideItsChunk() {
        // the prompt computed as one chunk of 200: continuing from 199 of them would compute the last as a decode
        // step, with other bits than the first run; the whole chunk runs again instead, as it ran the first time
        PrefixIndex index = new PrefixIndex(4);
        long[] prompt = content(200, 0);
        index.add("first", prompt, PrefillChunks.NONE.with(0, 200));
        assertNull(index.match(prompt));
        assertEquals(1, index.size(), "another prompt may still continue from it");
    }

    @Test
    void theSameShortPromptAgainRunsOnlyItsLastPosition() {
        PrefixIndex index = new PrefixIndex(4);
        long[] prompt = content(76, 0); // one chunk of 76: computed as row by row
        index.add("first", prompt, PrefillChunks.NONE.with(0, 76));
        PrefixIndex.Match match = index.match(prompt);
        assertEquals(75, match.length(), "the last position always runs: it gives the first token");
    }

    @Test
    void aMatchEndingInsideALaterChunkStopsAtThatChunksStart() {
        PrefixIndex index = new PrefixIndex(4);
        long[] kept = content(400, 0); // a first chunk [0, 140), row-wise [140, 150), a follow-up's chunk [150, 400)
        index.add("k", kept, PrefillChunks.NONE.with(0, 140).with(150, 400));
        long[] prompt = Arrays.copyOf(kept, 420);
        prompt[300] = -1; // diverges inside the second chunk
        PrefixIndex.Match match = index.match(prompt);
        assertEquals(150, match.length());
        assertEquals(List.of(new PrefillChunks.Range(0, 140)), match.chunks().ranges());
    }

    @Test
    void rowByRowPositionsAndChunkEndsAreReusableAsTheyAre() {
        PrefillChunks chunks = PrefillChunks.NONE.with(0, 140).with(150, 400);
        assertEquals(140, chunks.reusableLength(140));
        assertEquals(145, chunks.reusableLength(145));
        assertEquals(0, chunks.reusableLength(139));
        assertEquals(150, chunks.reusableLength(399));
        assertEquals(420, chunks.reusableLength(420));
        assertEquals(127, PrefillChunks.NONE.with(0, 127).reusableLength(127), "chunks of up to 127 are row by row");
        assertEquals(7, PrefillChunks.NONE.with(0, 127).reusableLength(7));
        assertEquals(0, PrefillChunks.NONE.with(0, 128).reusableLength(7));
    }
}
