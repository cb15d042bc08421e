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
        long[] turn1 = content(60, 0); // a 44-position prompt as one chunk, then 16 answer positions row by row
        index.add("turn1", turn1, PrefillChunks.NONE.with(0, 44));
        long[] turn2 = Arrays.copyOf(turn1, 80);
        PrefixIndex.Match match = index.take(turn2);
        assertEquals("turn1", match.key());
        assertEquals(60, match.length());
        assertEquals(List.of(new PrefillChunks.Range(0, 44)), match.chunks().ranges());
        assertEquals(0, index.size(), "a kept cache serves one session");
    }

    @Test
    void theSamePromptAgainIsNotContinuedFromInsideItsChunk() {
        // the prompt computed as one chunk of 44: continuing from 43 of them would compute the last as a decode step,
        // with other bits than the first run; the whole chunk runs again instead, as it ran the first time
        PrefixIndex index = new PrefixIndex(4);
        long[] prompt = content(44, 0);
        index.add("first", prompt, PrefillChunks.NONE.with(0, 44));
        assertNull(index.take(prompt));
        assertEquals(1, index.size(), "not taken: another prompt may still continue from it");
    }

    @Test
    void aMatchEndingInsideALaterChunkStopsAtThatChunksStart() {
        PrefixIndex index = new PrefixIndex(4);
        long[] kept = content(100, 0); // a first chunk [0, 40), row-wise [40, 50), a follow-up's chunk [50, 100)
        index.add("k", kept, PrefillChunks.NONE.with(0, 40).with(50, 100));
        long[] prompt = Arrays.copyOf(kept, 120);
        prompt[70] = -1; // diverges inside the second chunk
        PrefixIndex.Match match = index.take(prompt);
        assertEquals(50, match.length());
        assertEquals(List.of(new PrefillChunks.Range(0, 40)), match.chunks().ranges());
    }

    @Test
    void rowByRowPositionsAndChunkEndsAreReusableAsTheyAre() {
        PrefillChunks chunks = PrefillChunks.NONE.with(0, 40).with(50, 100);
        assertEquals(40, chunks.reusableLength(40));
        assertEquals(45, chunks.reusableLength(45));
        assertEquals(0, chunks.reusableLength(39));
        assertEquals(50, chunks.reusableLength(99));
        assertEquals(120, chunks.reusableLength(120));
        assertEquals(10, PrefillChunks.NONE.with(0, 10).reusableLength(10), "chunks of up to 15 are row by row");
        assertEquals(7, PrefillChunks.NONE.with(0, 10).reusableLength(7));
    }
}
