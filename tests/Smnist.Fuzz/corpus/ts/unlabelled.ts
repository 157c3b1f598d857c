%old-style comment
@univariate true
@equalLength false
@classLabel false
@data
1,2,3
4
