package io.convllava.common.transport;

import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Helpers attached to an address live and die with the channel the pool holds for it. */
class ChannelPoolTest {
    private static final String ADDRESS = "127.0.0.1:1"; // channels connect lazily: nothing is dialled here

    private record Bound(ManagedChannel channel) {
    }

    @Test
    void aHelperIsBoundToTheChannelThePoolHoldsForItsAddress() {
        try (ChannelPool pool = new ChannelPool(TransportOptions.DEFAULTS)) {
            Bound first = pool.attached(ADDRESS, Bound.class, Bound::new);
            assertSame(first, pool.attached(ADDRESS, Bound.class, Bound::new));
            assertSame(pool.get(ADDRESS), first.channel());

            pool.retainOnly(Set.of(ADDRESS));
            assertSame(first, pool.attached(ADDRESS, Bound.class, Bound::new), "a live address keeps its helper");

            pool.retainOnly(Set.of());
            assertTrue(first.channel().isShutdown());
            Bound next = pool.attached(ADDRESS, Bound.class, Bound::new);
            assertNotSame(first, next);
            assertFalse(next.channel().isShutdown(), "a helper made after the address left uses a new channel");
            assertSame(pool.get(ADDRESS), next.channel());
        }
    }
}
