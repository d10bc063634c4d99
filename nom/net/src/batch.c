/* batch.c: the batching-delay policy of thesis section 3.6, as pure functions.
 *
 * Kept apart from the loop so that the rule is stated once, reads like the thesis, and is
 * tested with a manual clock: a receive batch goes to the stack when the batching delay W has
 * passed since its first frame, when it is full, or when no more frames are pending; a
 * transmit batch leaves when its first frame has waited W or it is full. W = 0 means run to
 * completion: every frame is a batch of its own and leaves at once. */
#include "stack.h"

unsigned nomnet__rx_limit(int64_t delay_ns, unsigned max)
{
	if (delay_ns <= 0 || max < 1)
		return 1;
	return max;
}

enum nomnet_due nomnet__rx_due(unsigned count, int64_t first_ns, int64_t now_ns,
			       int64_t delay_ns, unsigned max, bool pending)
{
	if (count == 0)
		return NOMNET_HOLD;
	if (count >= nomnet__rx_limit(delay_ns, max))
		return NOMNET_DUE_FULL;
	if (now_ns - first_ns >= delay_ns)
		return NOMNET_DUE_DELAY;
	if (!pending)
		return NOMNET_DUE_EMPTY;
	return NOMNET_HOLD;
}

enum nomnet_due nomnet__tx_due(unsigned count, int64_t first_ns, int64_t now_ns,
			       int64_t delay_ns, unsigned max)
{
	if (count == 0)
		return NOMNET_HOLD;
	if (count >= (max < 1 ? 1 : max))
		return NOMNET_DUE_FULL;
	if (now_ns - first_ns >= delay_ns)
		return NOMNET_DUE_DELAY;
	return NOMNET_HOLD;
}
