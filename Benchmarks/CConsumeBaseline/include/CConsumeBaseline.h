int shoal_placeholder(void);
