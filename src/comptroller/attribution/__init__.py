"""Attribution: virtual-tag rules, owners and shared-cost allocation, applied at query time."""
